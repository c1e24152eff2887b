"""What goes out of Linli about service records: the 双报告 names each member's certificates,
and the records export in the national volunteer system's layout (docs/national-export.md)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx

from services.common.actor import ORGANISER
from services.common.settings import Settings
from services.gateway.record_exports import HEADER
from tests.certificate_steps import ISSUE, REVOKE, named, served
from tests.conftest import COMMUNITY, OTHER_COMMUNITY, GraphQLClient, token_for
from tests.dates import day_iso
from tests.party_steps import approved_party_member, person

REPORT = """
query($c: String!, $u: String!, $from: Date!, $to: Date!) {
  partyMemberReport(communityId: $c, workUnit: $u, startsOn: $from, endsOn: $to) {
    members { name totalMinutes certificateNumbers }
  }
}
"""
CONFIRM = "mutation($s: ID!) { confirmServiceRecords(shiftId: $s) }"


def period() -> dict[str, Any]:
    return {
        "communityId": COMMUNITY,
        "startsOn": day_iso(-30),
        "endsOn": day_iso(0),
        "idempotencyKey": uuid.uuid4().hex,
    }


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_party_report_names_each_members_valid_certificates(
    gql: GraphQLClient, client: httpx.AsyncClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    unit = f"灵武市供电公司 {uuid.uuid4().hex[:4]}"
    _, token = person(settings)
    member_id = await approved_party_member(gql, token, organiser_token, "刘建华", unit)
    await served(pool, member_id, minutes=150)
    kept = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]["number"]
    dropped = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]["number"]
    await gql.ok(REVOKE, {"input": {"number": dropped, "reason": "重复申请"}}, organiser_token)

    window = {"c": COMMUNITY, "u": unit, "from": day_iso(-30), "to": day_iso(0)}
    [member] = (await gql.ok(REPORT, window, organiser_token))["partyMemberReport"]["members"]
    assert member == {"name": "刘建华", "totalMinutes": 150, "certificateNumbers": [kept]}

    params = {"communityId": COMMUNITY, "workUnit": unit, "startsOn": day_iso(-30), "endsOn": day_iso(0)}
    auth = {"Authorization": f"Bearer {organiser_token}"}
    rows = rows_of(await client.get("/exports/volunteers/party-report.csv", params=params, headers=auth))
    assert rows[1][13] == "证明编号 Certificate numbers"
    [total] = [row for row in rows[2:] if row[4] == "合计 Total"]
    assert total[13] == kept
    page = await client.get("/reports/volunteers/party-report.html", params=params, headers=auth)
    assert f"志愿服务记录证明 Certificates: {kept}" in page.text and dropped not in page.text


async def test_the_records_export_follows_the_national_layout_and_leaves_id_numbers_to_the_user(
    gql: GraphQLClient, client: httpx.AsyncClient, pool: Any, settings: Settings, organiser_token: str
) -> None:
    volunteer_id = f"volunteer-{uuid.uuid4().hex[:8]}"
    token = token_for(settings, volunteer_id, {"volunteer"}, {COMMUNITY})
    await named(pool, volunteer_id, "=HYPERLINK(1)")  # a spreadsheet must not run it
    shift_id = await served(pool, volunteer_id, minutes=105)
    await gql.ok(CONFIRM, {"s": str(shift_id)}, organiser_token)
    number = (await gql.ok(ISSUE, {"input": period()}, token))["issueCertificate"]["number"]

    params = {"communityId": COMMUNITY, "startsOn": day_iso(-30), "endsOn": day_iso(0)}
    auth = {"Authorization": f"Bearer {organiser_token}"}
    rows = rows_of(await client.get("/exports/volunteers/service-records.csv", params=params, headers=auth))

    assert tuple(rows[0]) == HEADER
    record = dict(zip(HEADER, next(row for row in rows[1:] if row[5] == volunteer_id), strict=True))
    assert record["姓名"] == "'=HYPERLINK(1)"
    assert (record["证件类型"], record["证件号码"]) == ("", "")  # for the user: Linli keeps no ID numbers
    assert (record["服务内容"], record["服务项目"]) == ("秩序维护", "秩序维护")  # no festival: the role
    assert record["服务地点"].startswith("朔方社区党群服务中心")
    assert (record["服务时长（分钟）"], record["服务时长（小时）"]) == ("105", "1.75")
    assert record["服务开始时间"].endswith("09:00") and record["服务结束时间"].endswith("10:45")
    assert record["记录单位"] == "朔方社区" and record["确认时间"]
    assert record["证明编号"] == number

    other = token_for(settings, "organiser-xiyuan", {ORGANISER}, {OTHER_COMMUNITY})
    refused = await client.get(
        "/exports/volunteers/service-records.csv", params=params, headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == 403
    bad = await client.get(
        "/exports/volunteers/service-records.csv", params={**params, "endsOn": "tomorrow"}, headers=auth
    )
    assert bad.status_code == 400
