"""Steps the ticket, export and live-count tests share: sessions at chosen times, sign-ups,
tickets and their scanning."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import PIL.Image
import zxingcpp

from services.common.actor import SCANNER
from services.common.settings import Settings
from tests.conftest import (
    COMMUNITY,
    CREATE_ACTIVITY,
    CREATE_FESTIVAL,
    SCHEDULE_SESSION,
    SIGN_UP,
    GraphQLClient,
    token_for,
)

TICKET = """
query($id: ID!) {
  ticket(signupId: $id) { signupId sessionId partySize code pngDataUrl svg session { id venue } }
}
"""
CHECK_IN = """
mutation($input: CheckInTicketInput!) {
  checkInTicket(input: $input) { signupId sessionId partySize checkedInAt resident }
}
"""
ROSTER = """
query($id: ID!) {
  sessionRoster(sessionId: $id) { signupId resident phone status partySize checkedIn checkedInAt }
}
"""


async def schedule_at(
    gql: GraphQLClient,
    organiser_token: str,
    starts_in: timedelta,
    capacity: int = 10,
    title: str = "亲子手工",
    venue: str = "朔方社区邻里驿家",
    lasts: timedelta = timedelta(hours=2),
    published: bool = True,
    community: str = COMMUNITY,
) -> str:
    """A session starting ``starts_in`` from now (its festival and activity made on the way)."""
    starts_at = (datetime.now(UTC) + starts_in).replace(second=0, microsecond=0)  # as people plan
    festival = await gql.ok(
        CREATE_FESTIVAL,
        {
            "input": {
                "name": "第四届幸福邻里节",
                "communityIds": [community],
                "startsOn": (starts_at - timedelta(days=1)).date().isoformat(),
                "endsOn": (starts_at + timedelta(days=1)).date().isoformat(),
                "published": published,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    activity = await gql.ok(
        CREATE_ACTIVITY,
        {
            "input": {
                "festivalId": festival["createFestival"]["id"],
                "communityId": community,
                "title": title,
                "description": "带上孩子, 一起做灯笼; 材料现场提供",
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    session = await gql.ok(
        SCHEDULE_SESSION,
        {
            "input": {
                "activityId": activity["createActivity"]["id"],
                "venue": venue,
                "startsAt": starts_at.isoformat(),
                "endsAt": (starts_at + lasts).isoformat(),
                "capacity": capacity,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        organiser_token,
    )
    session_id: str = session["scheduleSession"]["id"]
    return session_id


async def sign_up(gql: GraphQLClient, token: str, session_id: str, party_size: int = 1) -> dict[str, Any]:
    variables = {
        "input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex, "partySize": party_size}
    }
    answer: dict[str, Any] = (await gql.ok(SIGN_UP, variables, token))["signUp"]
    return answer


def scanner_token(settings: Settings, community: str = COMMUNITY) -> str:
    return token_for(settings, f"scanner-{uuid.uuid4().hex[:6]}", {SCANNER}, {community})


async def ticket_of(gql: GraphQLClient, token: str, signup_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await gql.ok(TICKET, {"id": signup_id}, token))["ticket"]
    return answer


def scan(png_data_url: str) -> str:
    """What a camera reads from the ticket's PNG."""
    png = base64.b64decode(png_data_url.removeprefix("data:image/png;base64,"))
    found = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert len(found) == 1, "exactly one QR code on a ticket"
    text: str = found[0].text
    return text


def check_in_vars(code: str, session_id: str, key: str | None = None) -> dict[str, Any]:
    return {"input": {"code": code, "sessionId": session_id, "idempotencyKey": key}}
