// The organisers' console: festivals, activities and sessions; live seat counts; calling a session off.
import { showConflicts } from "/static/console-offline.js";
import {
  ApiError, allPages, beijingInput, busy, moreButton, pages, el, fmtDateTime, fmtTime, gql, keyed, langSwitch, logOut,
  onLangChange, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";
import { communityCard, showCommunityNames } from "/static/console-directory.js";
import { proxySignup } from "/static/console-proxy.js";
import { toTellList } from "/static/console-elders.js";
import { wishReview } from "/static/console-wishes.js";
import { undoCheckOutControl } from "/static/console-undo.js";
import { accountCard } from "/static/console-account.js";
import { LiveCounts } from "/static/live.js";
import { phaseBadge, sessionPhase, usePhaseStrings } from "/static/session-status.js";
import { volunteerCards } from "/static/console-volunteers.js";
import { certificateDesk } from "/static/console-certificates.js";

// Counts arrive live over graphql-ws (sessionCounts); polling covers a lost socket and picks up
// sessions others added. Without a socket the console polls often.
const POLL_MS = 3000;
const POLL_LIVE_MS = 15000;
const MAX_LIVE = 10; // the gateway allows 10 subscriptions per socket (each holds a Redis connection)

useStrings({
  zh: {
    councilLink: "邻里议事会：分办、召集议事会、会议纪要、办理跟踪",
    pageTitle: "邻里节 · 社区工作台", brand: "邻里节 · 社区工作台", logOut: "退出", loading: "正在加载…",
    loginTitle: "工作人员登录", username: "用户名", password: "密码", logIn: "登录",
    hello: (name, communities) => `${name}，您管理的社区：${communities}`,
    newFestival: "新建节日", festivalName: "名称", community: "社区", startsOn: "开始日期", endsOn: "结束日期",
    createFestival: "创建节日", newActivity: "新建活动", activityTitle: "活动名称", category: "类别",
    description: "介绍", createActivity: "创建活动", newSession: "安排场次", activity: "活动", venue: "地点",
    startsAt: "开始（北京时间）", endsAt: "结束（北京时间）", capacity: "名额", schedule: "安排",
    festival: "节日", sessionsTitle: "场次与名额", when: "时间", taken: "已报", left: "剩余", waiting: "候补",
    status: "状态", live: (time) => `每 ${POLL_MS / 1000} 秒自动刷新 · 最后更新 ${time}`,
    liveSocket: (time) => `实时更新 · 最后更新 ${time}`,
    offline: "暂时无法刷新，稍后自动重试", noFestival: "请先创建节日。", noSessions: "还没有场次。",
    scheduled: "未开始", cancelled: "已取消", cancelSession: "取消场次", reason: "取消原因",
    "confirm-cancel": "确认取消", "confirm-capacity": "确认修改", "confirm-move": "确认改期", keep: "返回",
    changeCapacity: "改名额", moveSession: "改时间", newCapacity: "新名额", newStart: "新开始时间", newEnd: "新结束时间",
    roster: "名单", rosterOf: (title, when) => `名单：${title} · ${when}`, rosterEmpty: "还没有人报名。",
    resident: "居民", phoneMasked: "电话", people: "人数", arrived: "到场", close: "关闭",
    exportCsv: "导出名单 (CSV)", exportIcs: "加入日历 (.ics)", reportTitle: "双报告：在职党员服务情况",
    reportNote: "按工作单位汇总到本社区报到的党员参加的班次和服务时长，可打印或导出。", workUnit: "工作单位",
    periodStart: "起始日期", periodEnd: "截止日期", openReport: "查看报告（可打印）", reportCsv: "导出 CSV", signupCONFIRMED: "已报名",
    signupWAITLISTED: "候补", signupCANCELLED: "已取消", signupPENDING: "处理中",
    publishNow: "立即发布（居民可以看到）", published: "已发布", draft: "草稿（居民看不到）",
    publish: "发布给居民", unpublish: "撤回为草稿", draftName: (name) => `${name}（草稿）`,
    newStaff: "工作人员账号", staffNote: "社区管理员为本社区开设组织者、扫码员账号。", staffRole: "角色",
    newUsername: "新账号用户名", displayName: "姓名", initialPassword: "初始密码", createStaff: "开设账号", roleORGANISER: "组织者",
    roleSCANNER: "扫码员", roleCOMMUNITY_ADMIN: "社区管理员", staffCreated: (u) => `已开设账号：${u}`,
    createdFestival: (n) => `已创建节日「${n}」。`, createdActivity: (n) => `已创建活动「${n}」。`,
    createdVenue: (n) => `已登记场地「${n}」。`, createdSession: (a, when) => `已安排场次：${a} · ${when}。`,
    createdShift: (r, when) => `已创建班次：${r} · ${when}。`, doneCancel: "已取消该场次，已报名的居民会收到通知。",
    doneCapacity: (n) => `已将名额改为 ${n} 个。`, doneMove: (when) => `已改到 ${when}，已报名的居民会收到通知。`,
    inAt: (time) => `${time} 签到`, notHere: "未到", outAt: (time, m) => `${time} 签退（${m} 分钟）`,
    noVolunteers: "还没有志愿者报名。", noName: "未填姓名",
    bookedVenue: "场地", otherVenue: "其他地点（手动填写，不检查冲突）", newVenue: "新建场地",
    venueNote: "登记过的场地不会被重复预订，也不会超员。", venueName: "场地名称", venueKind: "类型",
    venueCapacity: "最多容纳", createVenue: "登记场地", venueAddress: "地址（印在入场券上）", kindSTATION: "邻里驿家", kindSQUARE: "广场",
    kindROOM: "活动室", upTo: (n) => `最多 ${n} 人`,
    shiftsTitle: "志愿者班次", role: "岗位", placesTaken: "已报", stationLink: "签到站", openStation: "打开签到站",
    noShifts: "还没有班次。", newShift: "新建志愿者班次", headcount: "需要人数", createShift: "创建班次",
    deadTitle: "发送失败的通知", refresh: "刷新", noDeadLetters: "没有发送失败的通知。", dlKind: "类型",
    dlChannel: "渠道", dlAddress: "地址", dlAttempts: "尝试次数", dlError: "错误", resend: "重新发送", clash: "与同地点其他场次时间冲突",
    created: (name) => `已创建：${name}`, festivalDates: (a, b) => `${a} 至 ${b}`,
    wishReviewTitle: "微心愿审核", wishReviewNote: "居民提交的心愿经审核通过、发布后，才会出现在社区心愿墙上。心愿墙只显示楼栋。",
    noWishesToReview: "没有待审核或待发布的心愿。", wishPOSTED: "待审核", wishAPPROVED: "已通过，待发布",
    approve: "通过", decline: "不通过", merge: "合并到相同心愿", declineReason: "不通过的原因（居民会看到）",
    confirmDecline: "确认不通过", mergeInto: "合并到", confirmMerge: "确认合并", publishWish: "发布到心愿墙",
    wishApproved: "已通过审核，可以发布到心愿墙。", wishPublished: "已发布到心愿墙。", wishDeclined: "已退回，居民会收到原因。",
    wishMerged: "已合并。", needReason: "请填写不通过的原因（1到200个字）。",
  },
  en: {
    councilLink: "Neighbourhood council: triage, meetings, minutes and tasks",
    pageTitle: "Festival console", brand: "Console", logOut: "Log out", loading: "Loading…",
    loginTitle: "Staff log-in", username: "Username", password: "Password", logIn: "Log in",
    hello: (name, communities) => `${name}, organising: ${communities}`,
    newFestival: "New festival", festivalName: "Name", community: "Community", startsOn: "First day",
    endsOn: "Last day", createFestival: "Create festival", newActivity: "New activity",
    activityTitle: "Title", category: "Category", description: "Description", createActivity: "Create activity",
    newSession: "Schedule a session", activity: "Activity", venue: "Venue", startsAt: "Starts (Beijing time)",
    endsAt: "Ends (Beijing time)", capacity: "Seats", schedule: "Schedule", festival: "Festival",
    sessionsTitle: "Sessions and seats", when: "When", taken: "Taken", left: "Left", waiting: "Waiting",
    status: "Status", live: (time) => `Refreshes every ${POLL_MS / 1000}s · updated ${time}`,
    liveSocket: (time) => `Live · updated ${time}`,
    offline: "Cannot refresh right now; retrying", noFestival: "Create a festival first.",
    noSessions: "No sessions yet.", scheduled: "Scheduled", cancelled: "Cancelled",
    cancelSession: "Cancel session", reason: "Reason", "confirm-cancel": "Confirm cancellation",
    "confirm-capacity": "Change seats", "confirm-move": "Move it", keep: "Back",
    changeCapacity: "Seats", moveSession: "Move", newCapacity: "New number of seats", newStart: "New start",
    newEnd: "New end", roster: "Roster", rosterOf: (title, when) => `Roster: ${title} · ${when}`,
    rosterEmpty: "Nobody has signed up yet.", resident: "Resident", phoneMasked: "Phone", people: "People",
    arrived: "Arrived", close: "Close", exportCsv: "Export roster (CSV)", exportIcs: "Add to calendar (.ics)",
    reportTitle: "双报告: party members' service", reportNote: "Shifts and hours of the party members of a work unit who reported to this community; print or export.",
    workUnit: "Work unit", periodStart: "From", periodEnd: "To", openReport: "Open the report (printable)", reportCsv: "Export CSV",
    signupCONFIRMED: "Signed up", signupWAITLISTED: "Waitlisted", signupCANCELLED: "Cancelled", signupPENDING: "Processing",
    publishNow: "Publish now (residents can see it)", published: "Published", draft: "Draft (residents cannot see it)",
    publish: "Publish to residents", unpublish: "Back to draft", draftName: (name) => `${name} (draft)`,
    newStaff: "Staff accounts", staffNote: "Community admins open organiser and scanner accounts for their community.",
    staffRole: "Role", newUsername: "New account's username", displayName: "Name", initialPassword: "First password", createStaff: "Open account",
    roleORGANISER: "Organiser", roleSCANNER: "Scanner", roleCOMMUNITY_ADMIN: "Community admin",
    staffCreated: (u) => `Account opened: ${u}`,
    createdFestival: (n) => `Festival "${n}" created.`, createdActivity: (n) => `Activity "${n}" created.`,
    createdVenue: (n) => `Venue "${n}" registered.`, createdSession: (a, when) => `Session scheduled: ${a} · ${when}.`,
    createdShift: (r, when) => `Shift created: ${r} · ${when}.`, doneCancel: "Session called off; its residents are told.",
    doneCapacity: (n) => `Capacity changed to ${n}.`, doneMove: (when) => `Moved to ${when}; its residents are told.`,
    inAt: (time) => `in at ${time}`, notHere: "not here", outAt: (time, m) => `out at ${time} (${m} min)`,
    noVolunteers: "No volunteers yet.", noName: "No name given",
    bookedVenue: "Venue", otherVenue: "Somewhere else (typed, not checked for clashes)", newVenue: "New venue",
    venueNote: "A registered venue is never double-booked or overfilled.", venueName: "Venue name",
    venueKind: "Kind", venueCapacity: "Holds at most", createVenue: "Register venue", venueAddress: "Address (printed on tickets)", kindSTATION: "Neighbourhood station",
    kindSQUARE: "Square", kindROOM: "Room", upTo: (n) => `up to ${n}`,
    shiftsTitle: "Volunteer shifts", role: "Role", placesTaken: "Taken", stationLink: "Station",
    openStation: "Open the station display", noShifts: "No shifts yet.", newShift: "New volunteer shift",
    headcount: "Volunteers needed", createShift: "Create shift",
    deadTitle: "Failed notifications", refresh: "Refresh", noDeadLetters: "No failed notifications.",
    dlKind: "Kind", dlChannel: "Channel", dlAddress: "Address", dlAttempts: "Attempts", dlError: "Error", resend: "Send again",
    clash: "Overlaps another session at this venue", created: (name) => `Created: ${name}`,
    festivalDates: (a, b) => `${a} to ${b}`,
    wishReviewTitle: "微心愿 review", wishReviewNote: "Residents' wishes reach the community's wish wall only once approved and published. The wall shows the building only.",
    noWishesToReview: "No wishes to review or publish.", wishPOSTED: "To review", wishAPPROVED: "Approved; not yet on the wall",
    approve: "Approve", decline: "Decline", merge: "Merge into the same wish", declineReason: "Why not (the resident sees this)",
    confirmDecline: "Decline it", mergeInto: "Merge into", confirmMerge: "Merge it", publishWish: "Put it on the wish wall",
    wishApproved: "Approved: it can go on the wish wall now.", wishPublished: "It is on the wish wall.", wishDeclined: "Declined; the resident hears why.",
    wishMerged: "Merged.", needReason: "Say why it is declined (1 to 200 characters).",
  },
});

const ME = "{ me { id name username roles communities communityNames } }";
usePhaseStrings();
const FESTIVALS = `query($limit: Int!, $after: ID) { festivals(limit: $limit, after: $after) {
  id name communityIds startsOn endsOn published } }`;
const SET_PUBLISHED = `mutation($id: ID!, $published: Boolean!) {
  setFestivalPublished(festivalId: $id, published: $published) { id published } }`;
const FESTIVAL = `query($id: ID!) { festival(id: $id) { id name communityIds startsOn endsOn published activities(limit: 200) {
  id title communityId sessions(limit: 200) { id venue startsAt endsAt capacity seatsTaken seatsLeft waitlistLength status cancelReason
  registrationOpensAt registrationClosesAt } } } }`;
const CREATE_FESTIVAL = "mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id name } }";
const CREATE_ACTIVITY = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id title } }";
const SCHEDULE = "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }";
const CHANGE_CAPACITY = "mutation($input: ChangeSessionCapacityInput!) { changeSessionCapacity(input: $input) { id capacity } }";
const MOVE_SESSION = "mutation($input: MoveSessionInput!) { moveSession(input: $input) { id startsAt endsAt } }";
const DEAD_LETTERS = `query($limit: Int!, $after: ID) { deadLetters(limit: $limit, after: $after) {
  id channel kind address attempts lastError updatedAt } }`;
const RESEND = "mutation($id: ID!, $key: String) { resendDelivery(id: $id, idempotencyKey: $key) { id status } }";
const ROSTER = `query($id: ID!, $limit: Int!, $after: ID) { sessionRoster(sessionId: $id, limit: $limit, after: $after) {
  signupId resident phone status partySize checkedIn checkedInAt partyNames admitted } }`;
const SHIFTS = "query($c: String!, $limit: Int!, $after: ID) { shifts(communityId: $c, limit: $limit, after: $after) { id communityId festivalId venue role startsAt endsAt headcount placesTaken } }";
const CREATE_SHIFT = "mutation($input: CreateShiftInput!) { createShift(input: $input) { id } }";
const VENUES = "query($c: String!, $limit: Int!, $after: ID) { venues(communityId: $c, limit: $limit, after: $after) { id communityId name kind capacity } }";
const CREATE_VENUE = "mutation($input: CreateVenueInput!) { createVenue(input: $input) { id } }";
const VENUE_KINDS = ["STATION", "SQUARE", "ROOM"];
const CREATE_STAFF = `mutation($c: String!, $r: StaffRole!, $u: String!, $p: String!, $n: String!) {
  createOrganiser(communityId: $c, role: $r, username: $u, password: $p, displayName: $n) { id username roles } }`;
const STAFF_ROLES = ["ORGANISER", "SCANNER", "COMMUNITY_ADMIN"];
const SHIFT_ROSTER = `query($id: ID!, $limit: Int!, $after: ID) { shiftRoster(shiftId: $id, limit: $limit, after: $after) {
  volunteerId name phone signedUpAt checkedInAt checkedOutAt minutesCredited } }`;
const CANCEL_SESSION = "mutation($input: CancelSessionInput!) { cancelSession(input: $input) { id status } }";

const $ = (id) => document.getElementById(id);
const state = { me: null, festivals: [], festival: null, editing: null, timer: null, updatedAt: null, live: false, roster: null };
const wishes = wishReview({
  community: $("wish-community"), queue: $("wish-queue"), done: $("wish-done"), refresh: $("wish-refresh"),
}, (error) => reportError(error));
const proxy = proxySignup($("proxy"));
const toTell = toTellList($("to-tell"));
accountCard($("account"), { onLoggedOut: () => start() });
const volunteers = volunteerCards($("party-review"), $("call-backs"), (error) => reportError(error));
const certificates = certificateDesk($("certificate-desk"), (error) => reportError(error));
const ORGANISING = ["organiser", "community_admin", "platform_admin"];

/** As the API decides (Actor.may_organise), from the roles and communities of my token. */
function mayOrganise(communityId) {
  const roles = state.me?.roles ?? [];
  if (roles.includes("platform_admin")) return true;
  return roles.some((r) => r === "organiser" || r === "community_admin") && state.me.communities.includes(communityId);
}
// The API lets grid workers (and platform admins) act for residents; nobody else sees that card.
const ACTING_FOR_RESIDENTS = ["grid_worker", "platform_admin"];
const directory = communityCard($("directory-card"), (error) => reportError(error));
const live = new LiveCounts(applyCounts, (connected) => {
  state.live = connected;
  renderSessions();
  poll();
});

function applyCounts(counts) {
  for (const activity of state.festival?.activities ?? []) {
    const session = activity.sessions.find((s) => s.id === counts.sessionId);
    if (!session) continue;
    const changed = session.status !== counts.status;
    Object.assign(session, counts);
    state.updatedAt = new Date();
    renderSessions(changed);
  }
}
const appError = $("app-error");

function reportError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.code === "UNAUTHENTICATED") return start();
  showError(appError, error);
  return undefined;
}

async function loadFestivals(chosen) {
  const mine = new Set(state.me.communities);
  state.festivals = (await allPages(FESTIVALS, {}, (d) => d.festivals)).filter((f) => f.communityIds.some((c) => mine.has(c)));
  const select = $("festival");
  const previous = chosen ?? select.value;
  select.replaceChildren(...state.festivals.map((f) => el("option", { value: f.id }, f.published ? f.name : t("draftName", f.name))));
  if (state.festivals.some((f) => f.id === previous)) select.value = previous;
  else if (state.festivals.length) select.value = state.festivals.at(-1).id;
  await loadFestival();
}

async function loadFestival() {
  const id = $("festival").value;
  state.festival = id ? (await gql(FESTIVAL, { id })).festival : null;
  state.updatedAt = new Date();
  // The soonest scheduled sessions go live; if there are more, polling stays frequent for the rest.
  const now = new Date().toISOString();
  const scheduled = (state.festival?.activities ?? []).flatMap((a) => a.sessions)
    .filter((s) => s.status === "SCHEDULED")
    .sort((a, b) => (a.endsAt < now) - (b.endsAt < now) || a.startsAt.localeCompare(b.startsAt));
  state.allLive = scheduled.length <= MAX_LIVE;
  live.watch(scheduled.slice(0, MAX_LIVE).map((s) => s.id));
  render();
}

function render() {
  const festival = state.festival;
  $("festival-dates").textContent = festival
    ? `${t("festivalDates", festival.startsOn, festival.endsOn)} · ${festival.published ? t("published") : t("draft")}`
    : t("noFestival");
  $("publish").hidden = !festival;
  if (festival) $("publish").textContent = festival.published ? t("unpublish") : t("publish");
  const activities = festival?.activities ?? [];
  const select = $("session-activity");
  const previous = select.value;
  select.replaceChildren(...activities.map((a) => el("option", { value: a.id }, a.title)));
  if (activities.some((a) => a.id === previous)) select.value = previous;
  $("activity-form").querySelector("[type=submit]").disabled = !festival;
  $("session-form").querySelector("[type=submit]").disabled = !activities.length;
  $("shift-form").querySelector("[type=submit]").disabled = !festival;
  renderSessions();
}

function clashes(sessions) {
  const live = sessions.filter((s) => s.status === "SCHEDULED");
  const found = new Set();
  for (const a of live) {
    for (const b of live) {
      if (a.id !== b.id && a.venue === b.venue && a.startsAt < b.endsAt && b.startsAt < a.endsAt) found.add(a.id);
    }
  }
  return found;
}

function takenText(row) {
  return el("span", {}, `${row.seatsTaken}`, el("span", { class: "muted" }, `/${row.capacity}`));
}

function renderSessions(rebuild = false) {
  const rows = (state.festival?.activities ?? []).flatMap((a) => a.sessions.map((s) => ({ ...s, title: a.title, communityId: a.communityId })))
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.venue.localeCompare(b.venue));
  const clashing = clashes(rows);
  const body = $("sessions").querySelector("tbody");
  const time = state.updatedAt ? new Intl.DateTimeFormat("zh-CN", { timeStyle: "medium" }).format(state.updatedAt) : "";
  $("live").textContent = state.live ? t("liveSocket", time) : t("live", time);
  $("live").dataset.live = String(state.live);
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 7 }, t("noSessions"))));
    return;
  }
  // What a row shows besides its counts and status; when any of it changes, the table is redrawn.
  const shape = (row) => [row.id, row.startsAt, row.endsAt, row.venue, row.title, clashing.has(row.id)].join("|");
  const shown = [...body.querySelectorAll("tr[data-session]")].map((tr) => tr.dataset.shape);
  const sameRows = shown.length === rows.length && rows.every((r, i) => shape(r) === shown[i]);
  const typing = state.editing && rows.some((r) => r.id === state.editing.id);
  if (!rebuild && (typing || sameRows)) {
    // Counts changed, nothing else: refresh the numbers in place, so a button being pressed or a
    // reason being typed is not swept away by a burst of live updates.
    for (const row of rows) {
      const tr = body.querySelector(`[data-session='${row.id}']`);
      if (!tr) continue;
      tr.querySelector("[data-cell=taken]").replaceChildren(takenText(row));
      tr.querySelector("[data-cell=left]").textContent = row.seatsLeft;
      tr.querySelector("[data-cell=waiting]").textContent = row.waitlistLength;
      const status = tr.querySelector("[data-cell=status]");
      const sig = statusSignature(row);
      if (status.dataset.sig !== sig) {  // a phase, a form or a notice changed: that cell only
        status.dataset.sig = sig;
        status.replaceChildren(statusCell(row));
      }
    }
    return;
  }
  body.replaceChildren(...rows.map((row) => el("tr", {
    class: clashing.has(row.id) ? "clash" : null, dataset: { session: row.id, shape: shape(row) },
  },
    el("td", { "data-label": t("activity") }, row.title),
    el("td", { "data-label": t("when") }, `${fmtDateTime(row.startsAt)}–${fmtTime(row.endsAt)}`),
    el("td", { "data-label": t("venue") }, el("span", {}, row.venue, clashing.has(row.id) ? el("div", { class: "note" }, t("clash")) : null)),
    el("td", { class: "num", "data-label": t("taken"), dataset: { cell: "taken" } }, takenText(row)),
    el("td", { class: "num", "data-label": t("left"), dataset: { cell: "left" } }, row.seatsLeft),
    el("td", { class: "num", "data-label": t("waiting"), dataset: { cell: "waiting" } }, row.waitlistLength),
    el("td", { "data-label": t("status"), dataset: { cell: "status", sig: statusSignature(row) } }, statusCell(row)))));
}

/** What the status cell shows depends on: when it changes, the cell is drawn again. */
function statusSignature(row) {
  const editing = state.editing?.id === row.id ? state.editing.kind : "";
  const notice = state.sessionNotice?.id === row.id ? state.sessionNotice.text : "";
  return [row.status, sessionPhase(row), editing, notice, row.cancelReason ?? ""].join("|");
}

/** A Beijing wall-clock value for <input type="datetime-local"> from an instant. */
function beijingValue(iso) {
  return new Date(new Date(iso).getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

function statusCell(row) {
  if (row.status === "CANCELLED") {
    const notice = state.sessionNotice?.id === row.id ? el("p", { class: "confirm", role: "status" }, state.sessionNotice.text) : null;
    return el("span", {}, el("span", { class: "badge off" }, t("cancelled")), row.cancelReason ? el("div", { class: "note" }, row.cancelReason) : null, notice);
  }
  const editing = state.editing?.id === row.id ? state.editing.kind : null;
  const open = (kind) => () => { state.editing = kind ? { id: row.id, kind } : null; renderSessions(true); };
  if (!editing) {
    const phase = sessionPhase(row);
    const badge = el("span", { class: `badge ${phaseBadge(phase)}`, dataset: { phase } }, t(`phase${phase}`));
    // Another community's session in a shared festival: seen, not changed (the API would refuse).
    if (!mayOrganise(row.communityId)) return el("div", { class: "actions" }, badge);
    const notice = state.sessionNotice?.id === row.id ? el("p", { class: "confirm", role: "status" }, state.sessionNotice.text) : null;
    return el("div", { class: "actions" }, badge, notice,
      el("button", { type: "button", class: "quiet", onclick: () => showRoster(row).catch(reportError) }, t("roster")),
      el("button", { type: "button", class: "quiet", onclick: open("capacity") }, t("changeCapacity")),
      el("button", { type: "button", class: "quiet", onclick: open("move") }, t("moveSession")),
      el("button", { type: "button", class: "quiet", onclick: open("cancel") }, t("cancelSession")));
  }
  let fields;
  let action;
  let send;
  if (editing === "cancel") {
    const reason = el("input", { "aria-label": t("reason"), placeholder: t("reason"), maxlength: 200 });
    fields = [reason];
    action = () => `cancel-session:${row.id}`;
    send = (key) => gql(CANCEL_SESSION, { input: { sessionId: row.id, reason: reason.value.trim(), idempotencyKey: key } });
  } else if (editing === "capacity") {
    const capacity = el("input", { type: "number", min: 1, inputmode: "numeric", "aria-label": t("newCapacity"), value: row.capacity });
    fields = [capacity];
    action = () => `capacity:${row.id}:${capacity.value}`;
    send = (key) => gql(CHANGE_CAPACITY, { input: { sessionId: row.id, capacity: Number(capacity.value), idempotencyKey: key } });
  } else {
    const starts = el("input", { type: "datetime-local", "aria-label": t("newStart"), value: beijingValue(row.startsAt) });
    const ends = el("input", { type: "datetime-local", "aria-label": t("newEnd"), value: beijingValue(row.endsAt) });
    fields = [el("label", {}, t("newStart")), starts, el("label", {}, t("newEnd")), ends];
    action = () => `move:${row.id}:${starts.value}:${ends.value}`;
    send = (key) => gql(MOVE_SESSION, { input: {
      sessionId: row.id, startsAt: beijingInput(starts.value), endsAt: beijingInput(ends.value), idempotencyKey: key,
    } });
  }
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const confirm = el("button", { type: "button" }, t(`confirm-${editing}`));
  confirm.addEventListener("click", () => busy(confirm, error, async () => {
    await keyed(action(), send);
    const said = { cancel: () => t("doneCancel"), capacity: () => t("doneCapacity", fields[0].value),
      move: () => t("doneMove", fmtDateTime(beijingInput(fields[1].value))) }[editing]();
    state.editing = null;
    state.sessionNotice = { id: row.id, text: said };
    await loadFestival();
  }));
  setTimeout(() => fields.find((f) => f.tagName === "INPUT")?.focus(), 0);
  return el("div", { class: "editing" }, fields, error,
    el("div", { class: "row" }, confirm, el("button", { type: "button", class: "quiet", onclick: open(null) }, t("keep"))));
}

/** Who signed up for a session (each household member by name) and who has arrived; phones come masked. */
async function showRoster(row) {
  const list = pages(ROSTER, { id: row.id }, (d) => d.sessionRoster, { key: "signupId" });
  const entries = await list.next();
  state.roster = { row, entries: list.items };
  $("roster").hidden = false;
  $("export-csv").href = `/exports/sessions/${row.id}/roster.csv`;
  $("export-ics").href = `/exports/sessions/${row.id}.ics`;
  $("roster-title").textContent = t("rosterOf", row.title, fmtDateTime(row.startsAt));
  const statusText = (e) => t(`signup${e.status}`);
  const rosterRow = (e) => el("tr", { dataset: { signup: e.signupId } },
        el("td", { "data-label": t("resident") }, e.resident),
        el("td", { "data-label": t("phoneMasked") }, e.phone ?? "—"),
        el("td", { "data-label": t("status") }, statusText(e)),
        el("td", { class: "num", "data-label": t("people") }, el("span", {}, e.partySize,
          e.partyNames.length ? el("span", { class: "muted" }, `（${e.partyNames.join("、")}）`) : null)),
        el("td", { "data-label": t("arrived") }, e.checkedIn
          ? `${fmtTime(e.checkedInAt)}${e.admitted < e.partySize ? ` (${e.admitted}/${e.partySize})` : ""}` : "—"));
  const body = $("roster-table").querySelector("tbody");
  body.replaceChildren(...(entries.length ? entries.map(rosterRow) : [el("tr", {}, el("td", { colspan: 5 }, t("rosterEmpty")))]));
  // A roster longer than a page: 更多 appends the next one (the CSV export holds all of it).
  $("roster-more").replaceChildren(moreButton(list, (page) => body.append(...page.map(rosterRow)), $("roster-more-error")));
  await showConflicts($("roster-conflicts"), row.id);
  $("roster").scrollIntoView({ block: "nearest" });
}

$("roster-close").addEventListener("click", () => { $("roster").hidden = true; state.roster = null; });

/** The 双报告 report of a work unit, rendered and exported by the gateway: the form builds the address. */
function reportAddress(path) {
  const query = new URLSearchParams({
    communityId: $("report-community").value, workUnit: $("report-unit").value.trim(),
    startsOn: $("report-starts").value, endsOn: $("report-ends").value,
  });
  return `${path}?${query}`;
}

$("report-form").addEventListener("submit", (event) => {
  event.preventDefault();
  window.open(reportAddress("/reports/volunteers/party-report.html"), "_blank", "noopener");
});
$("report-csv").addEventListener("click", () => {
  if (!$("report-form").reportValidity()) return;
  const link = el("a", { href: reportAddress("/exports/volunteers/party-report.csv"), download: "" });
  document.body.append(link);
  link.click();
  link.remove();
});

/** The volunteer shifts of this festival (or of no festival) in my communities. */
async function loadShifts() {
  const festival = state.festival;
  const communities = festival ? festival.communityIds.filter((c) => state.me.communities.includes(c)) : [];
  const shifts = (await Promise.all(communities.map((c) => allPages(SHIFTS, { c }, (d) => d.shifts)))).flat()
    .filter((s) => !s.festivalId || s.festivalId === festival.id)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  $("shifts").querySelector("tbody").replaceChildren(...(shifts.length
    ? shifts.map((s) => el("tr", { dataset: { shift: s.id } },
        el("td", { "data-label": t("role") }, s.role),
        el("td", { "data-label": t("when") }, `${fmtDateTime(s.startsAt)}–${fmtTime(s.endsAt)}`),
        el("td", { "data-label": t("venue") }, s.venue),
        el("td", { class: "num", "data-label": t("placesTaken") }, `${s.placesTaken}/${s.headcount}`),
        el("td", { "data-label": t("stationLink") },
          el("a", { href: `/station?venue=${encodeURIComponent(s.venue)}`, target: "_blank", rel: "noopener" }, t("openStation")),
          " ",
          el("button", { type: "button", class: "quiet", onclick: (event) => showShiftRoster(s, event.target).catch(reportError) }, t("roster")))))
    : [el("tr", {}, el("td", { colspan: 5 }, t("noShifts")))]));
}

/** A volunteer on a roster: their name and masked phone, never their id. */
function volunteerLabel(entry) {
  const name = entry.name || t("noName");
  return entry.phone ? `${name}（${entry.phone}）` : name;
}

/** Who signed up for a shift and who is here, in a row under it. */
async function showShiftRoster(shift, button) {
  const row = button.closest("tr");
  const next = row.nextElementSibling;
  if (next?.classList.contains("shift-roster")) {
    next.remove();
    return;
  }
  const list = pages(SHIFT_ROSTER, { id: shift.id }, (d) => d.shiftRoster, { key: "volunteerId" });
  const entries = await list.next();
  const line = (e) => el("li", {}, `${volunteerLabel(e)} · ${e.checkedInAt ? t("inAt", fmtTime(e.checkedInAt)) : t("notHere")}`
    + (e.checkedOutAt ? ` · ${t("outAt", fmtTime(e.checkedOutAt), e.minutesCredited)}` : ""),
    " ", undoCheckOutControl(shift, e));
  const lines = el("ul", {}, entries.length ? entries.map(line) : [el("li", {}, t("noVolunteers"))]);
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const more = moreButton(list, (page) => lines.append(...page.map(line)), error);
  row.after(el("tr", { class: "shift-roster" }, el("td", { colspan: 5 }, lines, more, error)));
}

createForm($("shift-form"), "create-shift", async (key) => {
  const festival = state.festival;
  await gql(CREATE_SHIFT, { input: {
    communityId: festival.communityIds.find((c) => state.me.communities.includes(c)), festivalId: festival.id,
    role: $("shift-role").value.trim(), venue: $("shift-venue").value.trim(),
    startsAt: beijingInput($("shift-starts").value), endsAt: beijingInput($("shift-ends").value),
    headcount: Number($("shift-headcount").value), idempotencyKey: key,
  } });
  await loadShifts();
  return t("createdShift", $("shift-role").value.trim(), fmtDateTime(beijingInput($("shift-starts").value)));
}, ["shift-role"]);

$("staff-role").replaceChildren(...STAFF_ROLES.map((r) => el("option", { value: r }, t(`role${r}`))));
$("staff-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const done = form.querySelector("[role=status]");
  done.hidden = true;
  busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
    const data = await gql(CREATE_STAFF, {
      c: $("staff-community").value, r: $("staff-role").value, u: $("staff-username").value.trim(),
      p: $("staff-password").value, n: $("staff-name").value.trim(),
    });
    for (const id of ["staff-username", "staff-password", "staff-name"]) $(id).value = "";
    done.hidden = false;
    done.textContent = t("staffCreated", data.createOrganiser.username);
  });
});

async function loadDeadLetters() {
  const box = $("dead-letters");
  const list = pages(DEAD_LETTERS, {}, (d) => d.deadLetters);
  let letters;
  try {
    letters = await list.next();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    box.replaceChildren(el("p", { class: "note" }, error.text()));
    return;
  }
  if (!letters.length) {
    box.replaceChildren(el("p", { class: "note" }, t("noDeadLetters")));
    return;
  }
  const row = (letter) => {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const resend = el("button", { type: "button", class: "quiet" }, t("resend"));
    resend.addEventListener("click", () => busy(resend, error, async () => {
      await keyed(`resend:${letter.id}`, (key) => gql(RESEND, { id: letter.id, key }));
      await loadDeadLetters();
    }));
    return el("tr", { dataset: { delivery: letter.id } },
      el("td", {}, letter.kind), el("td", {}, letter.channel), el("td", {}, letter.address),
      el("td", { class: "num" }, letter.attempts), el("td", {}, letter.lastError ?? ""), el("td", {}, resend, error));
  };
  const body = el("tbody", {}, letters.map(row));
  const moreError = el("p", { class: "error", role: "alert", hidden: true });
  box.replaceChildren(el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, ["dlKind", "dlChannel", "dlAddress", "dlAttempts", "dlError", ""].map((k) => el("th", {}, k ? t(k) : "")))),
    body)), moreButton(list, (page) => body.append(...page.map(row)), moreError), moreError);
}

/** A create form: its idempotency key lives until the answer is final or the form is edited. */
function createForm(form, action, send, clear = []) {
  const button = form.querySelector("[type=submit]");
  const error = form.querySelector(".error");
  const done = form.querySelector("[role=status]") ?? el("p", { class: "confirm", role: "status", hidden: true });
  if (!done.isConnected) button.before(done);
  form.addEventListener("input", () => sessionStorage.removeItem(`linli.key.${action}`));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    done.hidden = true;
    busy(button, error, async () => {
      const said = await keyed(action, send);
      for (const id of clear) $(id).value = "";
      // Every create confirms in words what now exists.
      done.textContent = said;
      done.hidden = !said;
    });
  });
}

createForm($("festival-form"), "create-festival", async (key) => {
  const data = await gql(CREATE_FESTIVAL, { input: {
    name: $("festival-name").value.trim(), communityIds: [$("festival-community").value],
    startsOn: $("festival-starts").value, endsOn: $("festival-ends").value,
    published: $("festival-published").checked, idempotencyKey: key,
  } });
  await loadFestivals(data.createFestival.id);
  await loadShifts();
  return t("createdFestival", data.createFestival.name ?? $("festival-name").value.trim());
}, ["festival-name"]);

createForm($("activity-form"), "create-activity", async (key) => {
  const festival = state.festival;
  const mine = state.me.communities;
  const data = await gql(CREATE_ACTIVITY, { input: {
    festivalId: festival.id, communityId: festival.communityIds.find((c) => mine.includes(c)),
    title: $("activity-title").value.trim(), category: $("activity-category").value.trim(),
    description: $("activity-description").value.trim(), idempotencyKey: key,
  } });
  await loadFestival();
  $("session-activity").value = data.createActivity.id;
  return t("createdActivity", $("activity-title").value.trim());
}, ["activity-title", "activity-category", "activity-description"]);

/** The registered venues of my communities; a session booked at one is checked for clashes and size. */
async function loadVenues(chosen) {
  const venues = (await Promise.all(state.me.communities.map((c) => allPages(VENUES, { c }, (d) => d.venues)))).flat();
  const select = $("session-venue-id");
  const previous = chosen ?? select.value;
  select.replaceChildren(
    ...venues.map((v) => el("option", { value: v.id }, `${v.name}（${t(`kind${v.kind}`)} · ${t("upTo", v.capacity)}）`)),
    el("option", { value: "" }, t("otherVenue")));
  select.value = venues.some((v) => v.id === previous) ? previous : (venues[0]?.id ?? "");
  $("free-venue").hidden = Boolean(select.value);
}

$("session-venue-id").addEventListener("change", () => { $("free-venue").hidden = Boolean($("session-venue-id").value); });
$("venue-kind").replaceChildren(...VENUE_KINDS.map((k) => el("option", { value: k }, t(`kind${k}`))));

createForm($("venue-form"), "create-venue", async (key) => {
  const data = await gql(CREATE_VENUE, { input: {
    communityId: (state.festival?.communityIds ?? state.me.communities).find((c) => state.me.communities.includes(c)),
    name: $("venue-name").value.trim(), kind: $("venue-kind").value,
    capacity: Number($("venue-capacity").value), idempotencyKey: key, address: $("venue-address").value.trim(),
  } });
  await loadVenues(data.createVenue.id);
  return t("createdVenue", $("venue-name").value.trim());
}, ["venue-name", "venue-address"]);

createForm($("session-form"), "schedule-session", async (key) => {
  const venueId = $("session-venue-id").value;
  await gql(SCHEDULE, { input: {
    activityId: $("session-activity").value,
    ...(venueId ? { venueId } : { venue: $("session-venue").value.trim() }),
    startsAt: beijingInput($("session-starts").value), endsAt: beijingInput($("session-ends").value),
    capacity: Number($("session-capacity").value), idempotencyKey: key,
  } });
  await loadFestival();
  const activity = $("session-activity").selectedOptions[0]?.textContent ?? "";
  return t("createdSession", activity, fmtDateTime(beijingInput($("session-starts").value)));
});

function poll() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    try {
      if (state.festival) await loadFestival();
      showError(appError, null);
    } catch (error) {
      if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return start();
      $("live").textContent = t("offline");
    }
    return poll();
  }, state.live && state.allLive ? POLL_LIVE_MS : POLL_MS);
}

async function enterApp() {
  state.me = (await gql(ME)).me;
  showView("app");
  $("logout").hidden = false;
  const names = new Map(state.me.communities.map((c, i) => [c, state.me.communityNames[i]]));
  showCommunityNames(document.body, names);
  $("hello").textContent = t("hello", state.me.name || state.me.username, state.me.communityNames.join("、"));
  // Each of my communities by its name; the id is only the option's value.
  const communityOptions = () => state.me.communities.map((c) => el("option", { value: c }, names.get(c)));
  $("festival-community").replaceChildren(...communityOptions());
  $("staff-community").replaceChildren(...communityOptions());
  $("report-community").replaceChildren(...communityOptions());
  const actsForResidents = state.me.roles.some((r) => ACTING_FOR_RESIDENTS.includes(r));
  $("proxy").hidden = !actsForResidents;
  if (actsForResidents) proxy.start(state.me.communities, names);
  $("to-tell").hidden = !actsForResidents;
  if (actsForResidents) toTell.start();
  // A grid worker who organises nothing sees only the card they may use.
  const organises = state.me.roles.some((r) => ORGANISING.includes(r));
  volunteers.start(state.me.communities, organises);
  $("organiser-area").hidden = !organises;
  if (!organises) return;
  directory.start(state.me);
  wishes.start(state.me.communities, names);
  certificates.start(state.me.communities, names, organises, state.me.roles.includes("community_admin"));
  $("staff-form").hidden = !state.me.roles.some((r) => r === "community_admin" || r === "platform_admin");
  await loadFestivals();
  loadVenues().catch(reportError);
  loadShifts().catch(reportError);
  loadDeadLetters().catch(reportError);
  live.connect();
  poll();
}

async function start() {
  $("loading").hidden = true;
  clearTimeout(state.timer);
  const me = await whoAmI("id roles");
  if (!me || !me.roles.some((r) => ORGANISING.includes(r) || ACTING_FOR_RESIDENTS.includes(r))) {
    $("logout").hidden = !me;
    showView("login");
    return;
  }
  await enterApp();
}

langSwitch($("lang"));
onLangChange(() => directory.render());
onLangChange(() => {
  for (const option of $("venue-kind").options) option.textContent = t(`kind${option.value}`);
  for (const option of $("staff-role").options) option.textContent = t(`role${option.value}`);
  if (state.me) loadVenues().catch(reportError);
});
onLangChange(() => wishes.render());
onLangChange(() => { proxy.render(); toTell.render(); });
onLangChange(() => { if (state.me) { $("hello").textContent = t("hello", state.me.name || state.me.username, state.me.communityNames.join("、")); render(); } });
$("festival").addEventListener("change", () => Promise.all([loadFestival(), loadShifts()]).catch(reportError));
$("publish").addEventListener("click", () => busy($("publish"), $("publish-error"), async () => {
  const festival = state.festival;
  await gql(SET_PUBLISHED, { id: festival.id, published: !festival.published });
  await loadFestivals(festival.id);
}));
$("dead-refresh").addEventListener("click", () => loadDeadLetters().catch(reportError));
$("logout").addEventListener("click", async () => { await logOut(); await start(); });
$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
    await gql("mutation($u: String!, $p: String!) { organiserLogIn(username: $u, password: $p) { me { id } } }",
      { u: $("username").value.trim(), p: $("password").value });
    $("password").value = "";
    await start();
  });
});
start().catch((error) => { $("loading").hidden = true; showView("app"); reportError(error); });
