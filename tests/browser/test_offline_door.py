"""Two doors of one session lose the network: the east door holds the offline lease and admits
by checking signatures itself; the west door, without the lease, refuses in words and records one
manual override. When the network returns, every queued admission is sent in order: 200 tickets,
40 of them shown at both doors, make exactly 200 admissions and none twice, and the override of a
party already in reaches the organiser's console as a conflict with both records."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from playwright.async_api import Page, expect

from services.activities import signed_tickets, ticket_keys
from services.common.settings import Settings
from services.common.signed_codes import render
from services.identity.service import Identity
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.conftest import COMMUNITY, SIGN_UP, GraphQLClient, token_for
from tests.dates import minutes_from_now
from tests.identity_steps import staff_account
from tests.ticket_steps import scan, schedule_at

TICKETS = 200
AT_BOTH = 40

# Present codes one after another as a camera or a typist would: fill the field, press 确认入场,
# wait for the answer (the button is busy until then).
PRESENT = """
async (codes) => {
  const input = document.getElementById("door-code"), button = document.getElementById("door-submit");
  const idle = () => new Promise((done) => {
    const look = () => (button.disabled ? setTimeout(look, 2) : done());
    look();
  });
  for (const code of codes) {
    input.value = code;
    document.getElementById("door-form").requestSubmit();
    await new Promise((r) => setTimeout(r, 0));
    await idle();
  }
}
"""


READ_QR = """
async (url) => {
  const image = new Image();
  image.src = url;
  await image.decode();
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [image.width, image.height];
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  await new Promise((done) => {
    const script = document.createElement("script");
    script.src = "/vendor/jsqr.js";
    script.onload = done;
    document.head.append(script);
  });
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  return window.jsQR(pixels, image.width, image.height).data;
}
"""


async def signed_up(
    gql: GraphQLClient, settings: Settings, pool: Any, session_id: str, count: int
) -> list[str]:
    """``count`` residents sign up through the API; their tickets' codes, in order."""

    async def one() -> str:
        user_id = f"resident-{uuid.uuid4().hex[:8]}"
        token = token_for(settings, user_id, {"resident"}, {COMMUNITY})
        variables = {"input": {"sessionId": session_id, "idempotencyKey": uuid.uuid4().hex}}
        answer = (await gql.ok(SIGN_UP, variables, token))["signUp"]
        assert answer["status"] == "CONFIRMED"
        return str(answer["id"])

    ids: list[str] = []
    for _ in range(0, count, 20):
        ids += await asyncio.gather(*(one() for _ in range(min(20, count - len(ids)))))
    async with pool.acquire() as conn:
        return [await ticket_keys.ticket_code(conn, settings.secret, uuid.UUID(i)) for i in ids]


async def door_ready(person: Any, identity: Identity, session_id: str) -> Page:
    username, password = await staff_account(identity, "scanner", COMMUNITY)
    door = await person()
    page: Page = await door.open("/scan")
    await page.get_by_role("button", name="我是工作人员").click()
    await door.logs_in_as_staff(username, password)
    await page.get_by_label("场次").select_option(session_id)
    await page.get_by_role("button", name="准备离线").click()
    await expect(page.locator("#offline-state")).to_contain_text("已准备离线")
    return page


async def test_two_offline_doors_admit_200_tickets_once_and_report_the_override_as_a_conflict(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(
        gql, organiser_token, timedelta(minutes=30), capacity=TICKETS, title="灯会"
    )
    codes = await signed_up(gql, settings, pool, session_id, TICKETS)
    identity = Identity(pool, redis, settings)
    east = await door_ready(person, identity, session_id)
    await expect(east.locator("#offline-state")).to_contain_text("本设备持有离线许可")
    west = await door_ready(person, identity, session_id)
    await expect(west.locator("#offline-state")).to_contain_text("本设备没有离线许可")

    await east.context.set_offline(True)
    await west.context.set_offline(True)
    # West first: 40 people queue there, are refused in words and walk to the east door.
    both = codes[:AT_BOTH]
    await west.evaluate(PRESENT, both[:-1])
    await expect(west.locator("#door-form .error")).to_contain_text("本设备没有本场次的离线许可")
    await west.evaluate(PRESENT, both[-1:])
    await west.get_by_role("button", name="人工放行并记录").click()  # the last one, by a person's decision
    await expect(west.locator("#door-log")).to_contain_text("人工放行，已记录")
    await expect(west.locator("#offline-counts")).to_contain_text("拒绝 40 次，待同步 1 条")
    await screenshot(west, "door-offline-no-lease")

    await east.evaluate(PRESENT, codes)
    await expect(east.locator("#offline-counts")).to_contain_text("离线放行 200 次，拒绝 0 次，待同步 200 条")
    await east.evaluate(PRESENT, codes[:1])  # the same ticket again: refused from the device's own store
    await expect(east.locator("#door-form .error")).to_contain_text("这张票已在本设备放行过")
    await screenshot(east, "door-offline-lease")

    await east.context.set_offline(False)  # east syncs first: its admissions are the first records
    await expect(east.locator("#door-log")).to_contain_text(
        "已同步：放行 200 条，冲突 0 条，拒绝 0 条", timeout=60_000
    )
    await west.context.set_offline(False)
    await expect(west.locator("#door-log")).to_contain_text(
        "已同步：放行 0 条，冲突 1 条，拒绝 0 条", timeout=30_000
    )
    await expect(west.locator("#door-log")).to_contain_text("已在别处入场")

    async with pool.acquire() as conn:
        admitted = await conn.fetchval(
            "SELECT count(*) FROM activities.admissions a JOIN activities.signups g ON g.id = a.signup_id "
            "WHERE g.session_id = $1",
            uuid.UUID(session_id),
        )
        doubled = await conn.fetchval(
            "SELECT count(*) FROM (SELECT a.signup_id FROM activities.admissions a "
            "JOIN activities.signups g ON g.id = a.signup_id WHERE g.session_id = $1 "
            "GROUP BY a.signup_id HAVING count(*) > 1) d",
            uuid.UUID(session_id),
        )
    assert (admitted, doubled) == (TICKETS, 0)

    username, password = await staff_account(identity, "organiser", COMMUNITY)
    organiser = await person()
    console = await organiser.open("/console")
    await organiser.logs_in_as_staff(username, password)
    festival_id = await pool.fetchval(
        "SELECT a.festival_id FROM activities.sessions s "
        "JOIN activities.activities a ON a.id = s.activity_id "
        "WHERE s.id = $1",
        uuid.UUID(session_id),
    )
    # The shared test database holds many festivals of this name: choose this test's own.
    await console.get_by_label("节日", exact=True).select_option(str(festival_id))
    row = console.locator(f"[data-session='{session_id}']")
    await row.get_by_role("button", name="名单").click()
    conflicts = console.locator("#roster-conflicts")
    await expect(conflicts).to_contain_text("离线签到冲突（1）")
    await expect(conflicts).to_contain_text("先入场")
    await expect(conflicts).to_contain_text("持有离线许可")
    await expect(conflicts).to_contain_text("人工放行（无离线许可）")


async def test_offline_the_door_refuses_a_foreign_key_a_revoked_ticket_and_an_expired_key_and_reads_the_qr(
    person: Any, pool: Any, redis: Any, settings: Settings, gql: GraphQLClient, organiser_token: str
) -> None:
    session_id = await schedule_at(gql, organiser_token, timedelta(minutes=30), capacity=5, title="猜灯谜")
    good, revoked = await signed_up(gql, settings, pool, session_id, 2)
    async with pool.acquire() as conn:
        await conn.execute(  # cancelled after the ticket was shown: on the revocation list
            "UPDATE activities.signups SET status = 'CANCELLED' WHERE id = $1",
            signed_tickets.parse(revoked)[0].signup_id,
        )
        # a key of this community that expired yesterday, and a ticket it signed
        seed = signed_tickets.new_private_key()
        expired_id = await conn.fetchval(
            "INSERT INTO activities.ticket_keys "
            "(community_id, public_key, private_key, retired_at, valid_until) "
            "VALUES ($1, $2, $3, $4, $4) RETURNING key_id",
            COMMUNITY,
            signed_tickets.public_key_of(seed),
            b"not used",
            minutes_from_now(-24 * 60),
        )
    claimed = signed_tickets.parse(good)[0]
    expired = signed_tickets.issue(seed, expired_id, uuid.uuid4(), claimed.session_id, minutes_from_now(600))
    foreign = signed_tickets.issue(
        signed_tickets.new_private_key(),
        claimed.key_id,
        claimed.signup_id,
        claimed.session_id,
        minutes_from_now(600),
    )
    page = await door_ready(person, Identity(pool, redis, settings), session_id)
    await page.context.set_offline(True)
    error = page.locator("#door-form .error")
    for code, words in (
        (foreign, "二维码无效"),
        (revoked, "这张票已作废：报名已取消"),
        (expired, "签名密钥已过期"),
    ):
        await page.evaluate(PRESENT, [code])
        await expect(error).to_contain_text(words)

    # The page's own decoder (jsQR) reads the ticket's QR as zxing-cpp does, then admits it offline.
    png = render(good).png_data_url
    assert scan(png) == good
    read = await page.evaluate(
        READ_QR,
        png,
    )
    assert read == good
    await page.evaluate(PRESENT, [read])
    await expect(page.locator("#door-log")).to_contain_text("离线放行")


async def screenshot(page: Page, name: str) -> None:
    """The door as it is now, at phone width (the other door's context stays offline meanwhile)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}-{PHONE['width']}.png", full_page=True)
