"""The door without a network, through the API: signed tickets (scanned by a camera, published
keys, rotation, the old HMAC tickets), the offline lease of a session, and queued offline
admissions sent back in order, with a conflict kept when a party was already let in."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.activities import signed_tickets, tickets
from services.common.settings import Settings
from tests.conftest import COMMUNITY, GraphQLClient
from tests.dates import minutes_from_now
from tests.ticket_steps import CHECK_IN, check_in_vars, scan, scanner_token, schedule_at, sign_up, ticket_of

SOON = timedelta(minutes=30)
KEYS = "query($c: String!) { ticketKeys(communityId: $c) { keyId communityId publicKey validUntil } }"
ROTATE = "mutation($c: String!) { rotateTicketKey(communityId: $c) { keyId validUntil } }"
PREPARE = """
query($s: ID!, $d: String!) { prepareOfflineDoor(sessionId: $s, deviceId: $d) {
  communityId keys { keyId } roster { signupId resident partySize admitted }
  revocations { signupId reason } lease { deviceId mine expiresAt } } }
"""
ACQUIRE = "mutation($i: OfflineLeaseInput!) { acquireOfflineLease(input: $i) { deviceId mine expiresAt } }"
RELEASE = "mutation($i: OfflineLeaseInput!) { releaseOfflineLease(input: $i) }"
HAND_OVER = "mutation($i: HandOverOfflineLeaseInput!) { handOverOfflineLease(input: $i) { deviceId mine } }"
SYNC = """
mutation($i: SyncOfflineAdmissionsInput!) { syncOfflineAdmissions(input: $i) {
  idempotencyKey outcome signupId people code messageZh } }
"""
CONFLICTS = """
query($s: ID!) { offlineConflicts(sessionId: $s) { signupId resident
  first { scannedBy at deviceId override } second { scannedBy at deviceId override } } }
"""
CANCEL = "mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { id status } }"


async def test_a_new_ticket_is_signed_scans_from_its_qr_and_admits_once_online(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, client: httpx.AsyncClient
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    ticket = await ticket_of(gql, token, signup["id"])
    code = scan(ticket["pngDataUrl"])  # zxing-cpp reads the printed/screen QR
    assert code == ticket["code"] and signed_tickets.version_of(code) == 2

    claimed, _, _ = signed_tickets.parse(code)
    published = (await gql.ok(KEYS, {"c": COMMUNITY}))["ticketKeys"]
    assert claimed.key_id in [k["keyId"] for k in published]
    as_json = (await client.get(f"/ticket-keys.json?community={COMMUNITY}")).json()
    assert as_json["algorithm"] == "Ed25519" and claimed.key_id in [k["keyId"] for k in as_json["keys"]]

    scanner = scanner_token(settings)
    assert (await gql.ok(CHECK_IN, check_in_vars(code, session_id), scanner))["checkInTicket"][
        "signupId"
    ] == (signup["id"])
    assert await gql.error_code(CHECK_IN, check_in_vars(code, session_id), scanner) == "ALREADY_CHECKED_IN"


async def test_a_ticket_signed_with_a_foreign_key_is_refused_and_an_old_hmac_ticket_still_admits(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    claimed, _, _ = signed_tickets.parse((await ticket_of(gql, token, signup["id"]))["code"])
    forged = signed_tickets.issue(
        signed_tickets.new_private_key(),
        claimed.key_id,
        uuid.UUID(signup["id"]),
        uuid.UUID(session_id),
        minutes_from_now(600),
    )
    scanner = scanner_token(settings)
    assert await gql.error_code(CHECK_IN, check_in_vars(forged, session_id), scanner) == "INVALID_CODE"

    legacy = tickets.issue(settings.secret, uuid.UUID(signup["id"]))  # printed before signed tickets
    assert (await gql.ok(CHECK_IN, check_in_vars(legacy, session_id), scanner))["checkInTicket"][
        "signupId"
    ] == (signup["id"])


async def test_after_a_key_rotation_old_tickets_still_admit_and_new_ones_use_the_new_key(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    _, token = new_resident()
    signup = await sign_up(gql, token, session_id)
    old_code = (await ticket_of(gql, token, signup["id"]))["code"]
    rotated = (await gql.ok(ROTATE, {"c": COMMUNITY}, organiser_token))["rotateTicketKey"]
    new_code = (await ticket_of(gql, token, signup["id"]))["code"]
    old_key, new_key = signed_tickets.parse(old_code)[0].key_id, signed_tickets.parse(new_code)[0].key_id
    assert new_key == rotated["keyId"] != old_key
    keys = {k["keyId"]: k for k in (await gql.ok(KEYS, {"c": COMMUNITY}))["ticketKeys"]}
    assert keys[old_key]["validUntil"] is not None and keys[new_key]["validUntil"] is None
    admitted = await gql.ok(CHECK_IN, check_in_vars(old_code, session_id), scanner_token(settings))
    assert admitted["checkInTicket"]["signupId"] == signup["id"]


async def test_one_device_at_a_time_holds_a_sessions_offline_lease_and_hands_it_over(
    gql: GraphQLClient, organiser_token: str, settings: Settings
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    scanner = scanner_token(settings)
    east, west = f"east-{uuid.uuid4().hex[:8]}", f"west-{uuid.uuid4().hex[:8]}"
    lease = await gql.ok(ACQUIRE, {"i": {"sessionId": session_id, "deviceId": east}}, scanner)
    assert lease["acquireOfflineLease"]["mine"] is True
    body = await gql.raw(ACQUIRE, {"i": {"sessionId": session_id, "deviceId": west}}, scanner)
    error = body["errors"][0]["extensions"]
    assert error["code"] == "LEASE_HELD_ELSEWHERE" and "另一台扫码设备" in error["messageZh"]

    kit = (await gql.ok(PREPARE, {"s": session_id, "d": west}, scanner))["prepareOfflineDoor"]
    assert kit["lease"]["deviceId"] == east and kit["lease"]["mine"] is False and kit["keys"]

    handed = await gql.ok(
        HAND_OVER, {"i": {"sessionId": session_id, "deviceId": east, "toDeviceId": west}}, scanner
    )
    assert handed["handOverOfflineLease"]["deviceId"] == west
    assert (await gql.ok(RELEASE, {"i": {"sessionId": session_id, "deviceId": east}}, scanner))[
        "releaseOfflineLease"
    ] is False
    assert (await gql.ok(RELEASE, {"i": {"sessionId": session_id, "deviceId": west}}, scanner))[
        "releaseOfflineLease"
    ] is True
    again = await gql.ok(ACQUIRE, {"i": {"sessionId": session_id, "deviceId": east, "minutes": 30}}, scanner)
    assert again["acquireOfflineLease"]["mine"] is True
    bad = {"i": {"sessionId": session_id, "deviceId": "x"}}
    assert await gql.error_code(ACQUIRE, bad, scanner) == "BAD_USER_INPUT"


async def test_queued_offline_admissions_apply_in_order_once_and_an_override_of_a_party_in_is_a_conflict(
    gql: GraphQLClient, organiser_token: str, new_resident: Any, settings: Settings, pool: Any
) -> None:
    session_id = await schedule_at(gql, organiser_token, SOON)
    codes, signups = [], []
    for _ in range(3):
        _, token = new_resident()
        signup = await sign_up(gql, token, session_id)
        signups.append(signup["id"])
        codes.append((await ticket_of(gql, token, signup["id"]))["code"])
    _, cancelling = new_resident()
    gone = await sign_up(gql, cancelling, session_id)
    await gql.ok(CANCEL, {"input": {"signupId": gone["id"], "idempotencyKey": uuid.uuid4().hex}}, cancelling)
    east, west = scanner_token(settings), scanner_token(settings)
    kit = (await gql.ok(PREPARE, {"s": session_id, "d": "east-door-1"}, east))["prepareOfflineDoor"]
    assert {r["signupId"] for r in kit["roster"]} == set(signups)
    assert kit["revocations"] == [{"signupId": gone["id"], "reason": "CANCELLED"}]

    def item(code: str, key: str, override: bool = False) -> dict[str, Any]:
        at = minutes_from_now(0).isoformat()
        return {
            "code": code,
            "sessionId": session_id,
            "idempotencyKey": key,
            "scannedAt": at,
            "override": override,
        }

    batch = {
        "i": {
            "deviceId": "east-door-1",
            "admissions": [item(codes[0], "east-0001"), item(codes[1], "east-0002")],
        }
    }
    first = (await gql.ok(SYNC, batch, east))["syncOfflineAdmissions"]
    assert [r["outcome"] for r in first] == ["ADMITTED", "ADMITTED"]
    assert (await gql.ok(SYNC, batch, east))["syncOfflineAdmissions"] == first  # sent again: the same

    override = {
        "i": {
            "deviceId": "west-door-1",
            "admissions": [item(codes[1], "west-0001", True), item(codes[2], "west-0002", True)],
        }
    }
    west_results = (await gql.ok(SYNC, override, west))["syncOfflineAdmissions"]
    assert [r["outcome"] for r in west_results] == ["CONFLICT", "ADMITTED"]
    assert (await gql.ok(SYNC, override, west))["syncOfflineAdmissions"] == west_results

    [conflict] = (await gql.ok(CONFLICTS, {"s": session_id}, organiser_token))["offlineConflicts"]
    assert conflict["signupId"] == signups[1]
    assert conflict["first"]["deviceId"] == "east-door-1" and conflict["first"]["override"] is False
    assert conflict["second"]["deviceId"] == "west-door-1" and conflict["second"]["override"] is True
    async with pool.acquire() as conn:
        admitted = await conn.fetchval(
            "SELECT count(*) FROM activities.admissions WHERE signup_id = ANY($1::uuid[])",
            [uuid.UUID(s) for s in signups],
        )
    assert admitted == 3

    void = {"i": {"deviceId": "east-door-1", "admissions": [item("LT" + "A" * 40, "east-0003")]}}
    [refused] = (await gql.ok(SYNC, void, east))["syncOfflineAdmissions"]
    assert refused["outcome"] == "REFUSED" and refused["code"] == "INVALID_CODE"


async def test_the_scanner_installs_as_an_app_that_keeps_its_page_and_decoders(
    client: httpx.AsyncClient,
) -> None:
    worker = await client.get("/scan-sw.js")
    assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/"
    for kept in ("/scan", "/static/offline-door.js", "/vendor/jsqr.js", "/vendor/ed25519.js"):
        assert f'"{kept}"' in worker.text
    manifest = (await client.get("/static/scan.webmanifest")).json()
    assert manifest["start_url"] == "/scan" and manifest["display"] == "standalone"
    assert 'rel="manifest"' in (await client.get("/scan")).text
