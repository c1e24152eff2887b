"""Bearer tokens: what a token says can be trusted only if it was signed with our secret."""

from __future__ import annotations

import pytest

from services.common.actor import ORGANISER, Actor
from services.common.errors import Refusal
from services.common.tokens import issue_token, read_token

ORGANISER_A = Actor("u1", frozenset({ORGANISER}), frozenset({"lingwu-shuofang"}))


def test_a_token_names_its_actor() -> None:
    token = issue_token(ORGANISER_A, "s3cret", ttl_s=60, now=1_000)
    assert read_token(token, "s3cret", now=1_030) == ORGANISER_A


def test_an_expired_token_is_refused() -> None:
    token = issue_token(ORGANISER_A, "s3cret", ttl_s=60, now=1_000)
    with pytest.raises(Refusal) as refused:
        read_token(token, "s3cret", now=1_061)
    assert refused.value.code == "UNAUTHENTICATED"


def test_a_token_with_edited_claims_is_refused() -> None:
    token = issue_token(ORGANISER_A, "s3cret", ttl_s=60, now=1_000)
    version, key_id, _claims, mac = token.split(".")
    other = issue_token(Actor("u1", frozenset({"platform_admin"}), frozenset()), "x", 60, now=1_000)
    tampered = ".".join([version, key_id, other.split(".")[2], mac])
    with pytest.raises(Refusal):
        read_token(tampered, "s3cret", now=1_030)


@pytest.mark.parametrize("garbage", ["", "abc", "v1.k1.e30", "v2.k1.e30.x", "v1.k9.e30.x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(Refusal):
        read_token(garbage, "s3cret")
