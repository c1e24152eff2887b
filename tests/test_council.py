"""邻里议事会 stories through the public API: the water-pipe case from a resident's concern to the
public board, invitations and replies told once each, one household one vote, an overdue task
reminding its owner once a day, and another community's staff refused throughout."""

from __future__ import annotations

import json
from typing import Any

from services.common.actor import COMMUNITY_ADMIN, GRID_WORKER, ORGANISER, RESIDENT
from services.common.settings import Settings
from services.volunteers import council_handlers
from tests.conftest import COMMUNITY, GraphQLClient, eventually, token_for
from tests.council_steps import (
    BOARD,
    COMPLETE,
    INBOX,
    INVITEES,
    MINUTES,
    MY_CONCERNS,
    MY_INVITATIONS,
    PROGRESS,
    RAISE,
    RATE,
    REPLY,
    SET_LEADER,
    TRIAGE,
    WATER_PIPE,
    concern_at_council,
    convene,
    decision,
    key,
    property_company,
    resident_of,
    staff,
    station,
)
from tests.dates import at, at_iso, day_iso
from tests.identity_steps import identity, no_cookies

__all__ = ["identity", "no_cookies"]  # fixtures, used by name


async def inbox(gql: GraphQLClient, token: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in (await gql.ok(INBOX, None, token))["myInbox"] if m["kind"] == kind]


async def test_the_water_pipe_case_from_a_residents_concern_to_the_public_board(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    resident = await resident_of(gql, pool, "3号楼", "赵淑兰")
    leader = await resident_of(gql, pool, "3号楼", "李国强")
    grid_worker_id, grid_worker = staff(settings, GRID_WORKER)
    organiser_id, organiser = staff(settings, ORGANISER)
    manager_id, manager = staff(settings, RESIDENT)  # the property company's manager, a partner member
    partner = await property_company(gql, organiser, (manager_id, manager))
    station_id = await station(gql, settings)
    words = f"{WATER_PIPE}（{key()[:6]}）"

    concern_id = await concern_at_council(gql, resident["token"], grid_worker, words)
    followed = (await gql.ok(MY_CONCERNS, None, resident["token"]))["myConcerns"]
    assert [c["statusWords"] for c in followed if c["id"] == concern_id] == ["已提交邻里议事会商议"]

    led = await gql.ok(SET_LEADER, {"c": COMMUNITY, "b": "3号楼", "p": leader["phone"]}, organiser)
    assert led["setBuildingLeader"]["name"] == "李国强"
    invitees = (await gql.ok(INVITEES, {"c": COMMUNITY}, organiser))["councilInvitees"]
    chosen = [
        next(i for i in invitees if i["partnerId"] == partner["id"]),
        next(i for i in invitees if i["role"] == "BUILDING_LEADER" and i["building"] == "3号楼"),
    ]
    assert chosen[0]["role"] == "PROPERTY_COMPANY" and chosen[0]["roleWords"] == "物业公司"
    same_key = key()
    inviting = [
        {"role": i["role"], "partnerId": i["partnerId"], "personId": i["personId"], "name": i["name"]}
        for i in chosen
    ]
    meeting = await convene(gql, organiser, concern_id, station_id, inviting, same_key)
    again = await convene(gql, organiser, concern_id, station_id, inviting, same_key)  # sent twice
    assert again["id"] == meeting["id"] and len(again["invitations"]) == 2
    assert "朔方路8号" in meeting["place"]

    # each invitee is told once; each reply reaches the organiser once
    invited = await eventually(lambda: inbox(gql, leader["token"], "council.invited"))
    assert len(invited) == 1 and "楼栋长" in invited[0]["body"]
    mine = (await gql.ok(MY_INVITATIONS, None, manager))["myCouncilInvitations"]
    assert [i["roleWords"] for i in mine] == ["物业公司"]
    for _ in range(2):
        await gql.ok(REPLY, {"id": mine[0]["id"], "r": "ACCEPT"}, manager)
    replies = await eventually(lambda: inbox(gql, organiser, "council.replied"))
    assert len(replies) == 1 and partner["name"] in replies[0]["body"]
    assert len(await inbox(gql, manager, "council.invited")) == 1

    # a split that does not add up is refused, and nothing is saved
    deadline = day_iso(7)
    half = [{"party": partner["name"], "fen": 60_000}, {"party": "3号楼居民", "fen": 50_000}]
    wrong = {
        "meetingId": meeting["id"],
        "minutes": "讨论了水管支架的维修",
        "decisions": [decision(concern_id, partner, deadline, half)],
    }
    refused = await gql.raw(MINUTES, {"input": wrong}, organiser)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "与总额1200.00元不符" in refused["errors"][0]["message"]
    assert [
        c["status"]
        for c in (await gql.ok(MY_CONCERNS, None, resident["token"]))["myConcerns"]
        if c["id"] == concern_id
    ] == ["TO_COUNCIL"]

    half[1]["fen"] = 60_000
    right = decision(concern_id, partner, deadline, half)
    right["hands"] = [
        {"household": "3号楼2单元301", "vote": "FOR"},
        {"household": "3号楼 2单元 301", "vote": "FOR"},
        {"household": "3号楼2单元302", "vote": "FOR"},
        {"household": "3号楼1单元101", "vote": "AGAINST"},
    ]
    recorded = await gql.ok(MINUTES, {"input": {**wrong, "decisions": [right]}}, organiser)
    task = recorded["recordMinutes"]["concerns"][0]["tasks"][0]
    assert recorded["recordMinutes"]["concerns"][0]["status"] == "DECIDED"
    assert task["shares"] == [
        {"party": partner["name"], "fen": 60_000},
        {"party": "3号楼居民", "fen": 60_000},
    ]
    assert (task["votesFor"], task["votesAgainst"]) == (2, 1)  # one household, one vote

    # the property company does the work; a resident of the building rates it
    note = {"taskId": task["id"], "note": "已采购新支架", "idempotencyKey": key()}
    assert (await gql.ok(PROGRESS, {"input": note}, manager))["noteTaskProgress"]["status"] == "IN_PROGRESS"
    done = await gql.ok(COMPLETE, {"id": task["id"], "n": "支架已更换，水管固定"}, manager)
    assert done["completeTask"]["status"] == "DONE"
    neighbour = await resident_of(gql, pool, "4号楼", "周明")
    other_building = await gql.raw(RATE, {"input": {"taskId": task["id"], "stars": 5}}, neighbour["token"])
    assert other_building["errors"][0]["extensions"]["code"] == "NOT_OF_THE_BUILDING"
    rated = await gql.ok(
        RATE, {"input": {"taskId": task["id"], "stars": 5, "comment": "修得很及时"}}, resident["token"]
    )
    assert rated["rateTask"] == {"id": task["id"], "ratingCount": 1, "averageStars": 5.0}
    followed = (await gql.ok(MY_CONCERNS, None, resident["token"]))["myConcerns"]
    assert [c["statusWords"] for c in followed if c["id"] == concern_id] == ["已办结并获居民评价"]

    async def told_rated() -> list[dict[str, Any]]:
        told = await inbox(gql, resident["token"], "concern.changed")
        return [m for m in told if "已办结并获居民评价" in m["body"]]

    assert len(await eventually(told_rated)) == 1  # each state change told once, in words

    # the staff's steps are in the community's audit trail
    admin = token_for(settings, "admin-council", {COMMUNITY_ADMIN}, {COMMUNITY})
    audit = "query($c: String!) { auditLog(communityId: $c, limit: 200) { action actorId } }"
    trail = {(e["action"], e["actorId"]) for e in (await gql.ok(audit, {"c": COMMUNITY}, admin))["auditLog"]}
    assert {("conveneCouncilMeeting", organiser_id), ("recordMinutes", organiser_id)} <= trail
    assert ("triageConcern", grid_worker_id) in trail

    # the public board shows it without personal data, even to someone not logged in
    board = (await gql.ok(BOARD, {"c": COMMUNITY}))["publicBoard"]
    item = next(i for i in board["items"] if i["words"] == words)
    assert item["statusWords"] == "已办结并获居民评价"
    shown = item["decisions"][0]
    assert shown["ownerName"] == partner["name"] and shown["costTotalFen"] == 120_000
    assert shown["ratingCount"] == 1 and "支架已更换，水管固定" in shown["progress"]
    text = json.dumps(board, ensure_ascii=False)
    for personal in (
        resident["id"],
        resident["phone"],
        "赵淑兰",
        "李国强",
        leader["phone"],
        manager_id,
        organiser_id,
    ):
        assert personal not in text


async def test_an_overdue_task_reminds_its_owner_once_a_day(
    gql: GraphQLClient, pool: Any, settings: Settings, redis: Any
) -> None:
    resident = await resident_of(gql, pool, "3号楼")
    _, grid_worker = staff(settings, GRID_WORKER)
    _, organiser = staff(settings, ORGANISER)
    owner_id, owner = staff(settings, GRID_WORKER)
    partner = await property_company(gql, organiser)
    concern_id = await concern_at_council(gql, resident["token"], grid_worker, f"楼道灯不亮（{key()[:6]}）")
    meeting = await convene(
        gql,
        organiser,
        concern_id,
        await station(gql, settings),
        [{"role": "PARTNER_UNIT", "partnerId": partner["id"]}],
    )
    fix = {
        "concernId": concern_id,
        "decision": "网格员联系电工修好楼道灯",
        "ownerName": "网格员",
        "ownerPersonId": owner_id,
        "deadline": day_iso(1),
    }
    await gql.ok(
        MINUTES, {"input": {"meetingId": meeting["id"], "minutes": "楼道灯", "decisions": [fix]}}, organiser
    )

    async def sweep(days_ahead: int, clock: str) -> None:
        await council_handlers.remind_overdue_tasks({"pool": pool, "clock": lambda: at(days_ahead, clock)})

    await sweep(1, "20:00")  # due today: not overdue yet
    await sweep(2, "08:00")
    await sweep(2, "09:00")
    await sweep(2, "23:00")
    reminded = await eventually(lambda: inbox(gql, owner, "council.task_overdue"))
    assert len(reminded) == 1 and "楼道灯" in reminded[0]["body"]
    await sweep(3, "08:00")
    assert len(await eventually(lambda: _at_least(gql, owner, 2))) == 2


async def _at_least(gql: GraphQLClient, token: str, n: int) -> list[dict[str, Any]]:
    found = await inbox(gql, token, "council.task_overdue")
    return found if len(found) >= n else []


async def test_another_communitys_staff_are_refused_throughout(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    resident = await resident_of(gql, pool, "3号楼")
    _, grid_worker = staff(settings, GRID_WORKER)
    _, organiser = staff(settings, ORGANISER)
    manager_id, manager = staff(settings, RESIDENT)
    partner = await property_company(gql, organiser, (manager_id, manager))
    station_id = await station(gql, settings)
    concern_id = await concern_at_council(gql, resident["token"], grid_worker, f"垃圾桶满了（{key()[:6]}）")
    meeting = await convene(
        gql, organiser, concern_id, station_id, [{"role": "PROPERTY_COMPANY", "partnerId": partner["id"]}]
    )
    split = [{"party": partner["name"], "fen": 120_000}]
    minutes = {
        "meetingId": meeting["id"],
        "minutes": "垃圾桶",
        "decisions": [decision(concern_id, partner, day_iso(5), split)],
    }

    elsewhere = "lingwu-xiyuan"
    other_grid = token_for(settings, "gw-xiyuan", {GRID_WORKER}, {elsewhere})
    other_org = token_for(settings, "org-xiyuan", {ORGANISER}, {elsewhere})
    other_concern = await concern_at_council(gql, resident["token"], grid_worker, f"另一件事（{key()[:6]}）")
    for query, variables, token in (
        (TRIAGE, {"input": {"concernId": other_concern, "triage": "HANDLED", "note": "处理了"}}, other_grid),
        ("query($c: String!) { communityConcerns(communityId: $c) { id } }", {"c": COMMUNITY}, other_grid),
        ("query($c: String!) { councilMeetings(communityId: $c) { id } }", {"c": COMMUNITY}, other_org),
        ("query($c: String!) { communityCouncilTasks(communityId: $c) { id } }", {"c": COMMUNITY}, other_org),
        (INVITEES, {"c": COMMUNITY}, other_org),
        (SET_LEADER, {"c": COMMUNITY, "b": "3号楼", "p": resident["phone"]}, other_org),
        (MINUTES, {"input": minutes}, other_org),
    ):
        assert await gql.error_code(query, variables, token) == "FORBIDDEN", query
    assert (
        await gql.error_code(
            "mutation($input: ConveneCouncilMeetingInput!) { conveneCouncilMeeting(input: $input) { id } }",
            {
                "input": {
                    "communityId": COMMUNITY,
                    "title": "越界",
                    "concernIds": [concern_id],
                    "startsAt": at_iso(3, "19:00"),
                    "stationId": station_id,
                    "invitees": [{"role": "COMMITTEE", "personId": "x"}],
                    "idempotencyKey": key(),
                }
            },
            other_org,
        )
        == "FORBIDDEN"
    )
    recorded = await gql.ok(MINUTES, {"input": minutes}, organiser)
    task_id = recorded["recordMinutes"]["concerns"][0]["tasks"][0]["id"]
    note = {"taskId": task_id, "note": "越界", "idempotencyKey": key()}
    assert await gql.error_code(PROGRESS, {"input": note}, other_org) == "NOT_YOUR_TASK"
    assert await gql.error_code(COMPLETE, {"id": task_id, "n": "越界"}, other_grid) == "NOT_YOUR_TASK"
    still = await gql.ok(
        "query($c: String!) { communityConcerns(communityId: $c) { id status } }",
        {"c": COMMUNITY},
        grid_worker,
    )
    assert {c["id"]: c["status"] for c in still["communityConcerns"]}[other_concern] == "TO_COUNCIL"


async def test_a_grid_worker_raises_a_concern_for_a_resident_of_their_community_only(
    gql: GraphQLClient, pool: Any, settings: Settings
) -> None:
    resident = await resident_of(gql, pool, "5号楼", "孙大爷")
    _, grid_worker = staff(settings, GRID_WORKER)
    other_grid = token_for(settings, "gw-xiyuan", {GRID_WORKER}, {"lingwu-xiyuan"})
    words = f"5号楼门口路灯坏了（{key()[:6]}）"
    concern = {
        "communityId": COMMUNITY,
        "building": "5号楼",
        "words": words,
        "residentId": resident["id"],
        "idempotencyKey": key(),
    }
    assert await gql.error_code(RAISE, {"input": concern}, other_grid) == "FORBIDDEN"
    made = (await gql.ok(RAISE, {"input": concern}, grid_worker))["raiseConcern"]
    assert made["statusWords"] == "已收到，等待网格员处理"
    hers = (await gql.ok(MY_CONCERNS, None, resident["token"]))["myConcerns"]
    assert [c["id"] for c in hers if c["id"] == made["id"]] == [made["id"]]
    bad = {**concern, "words": "  ", "idempotencyKey": key()}
    refused = await gql.raw(RAISE, {"input": bad}, grid_worker)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["errors"][0]["extensions"]["messageZh"]
