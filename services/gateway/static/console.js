// The organisers' console: festivals, activities and sessions; live seat counts; calling a session off.
import {
  ApiError, beijingInput, busy, el, fmtDateTime, fmtTime, gql, keyed, langSwitch, logOut,
  onLangChange, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";

// Counts arrive live over graphql-ws (sessionCounts); polling covers a lost socket and picks up
// sessions others added. Without a socket the console polls often.
const POLL_MS = 3000;
const POLL_LIVE_MS = 15000;
const COUNTS = `subscription($id: ID!) { sessionCounts(sessionId: $id) {
  sessionId capacity seatsTaken seatsLeft waitlistLength status } }`;

/** A graphql-transport-ws client: one socket, one subscription per watched session. */
class LiveCounts {
  constructor(onCounts, onState) {
    this.onCounts = onCounts;
    this.onState = onState;
    this.wanted = new Set();
    this.sent = new Set();
    this.socket = null;
    this.ready = false;
    this.retryMs = 1000;
  }

  connect() {
    if (this.socket || !("WebSocket" in window)) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        this.ready = true;
        this.retryMs = 1000;
        this.onState(true);
        this.flush();
      } else if (message.type === "next" && message.payload?.data?.sessionCounts) {
        this.onCounts(message.payload.data.sessionCounts);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "error" || message.type === "complete") {
        this.sent.delete(message.id); // polling keeps that session's numbers fresh
      }
    });
    socket.addEventListener("close", () => {
      this.socket = null;
      this.ready = false;
      this.sent.clear();
      this.onState(false);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30000);
    });
  }

  watch(sessionIds) {
    this.wanted = new Set(sessionIds);
    for (const id of [...this.sent]) {
      if (!this.wanted.has(id)) {
        this.sent.delete(id);
        this.socket?.send(JSON.stringify({ id, type: "complete" }));
      }
    }
    this.flush();
  }

  flush() {
    if (!this.ready) return;
    for (const id of this.wanted) {
      if (this.sent.has(id)) continue;
      this.sent.add(id);
      this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: COUNTS, variables: { id } } }));
    }
  }
}

useStrings({
  zh: {
    pageTitle: "邻里节 · 组织者后台", brand: "邻里节 · 组织者后台", logOut: "退出", loading: "正在加载…",
    loginTitle: "组织者登录", username: "用户名", password: "密码", logIn: "登录",
    hello: (name, communities) => `${name}，您管理的社区：${communities}`,
    newFestival: "新建节日", festivalName: "名称", community: "社区", startsOn: "开始日期", endsOn: "结束日期",
    createFestival: "创建节日", newActivity: "新建活动", activityTitle: "活动名称", category: "类别",
    description: "介绍", createActivity: "创建活动", newSession: "安排场次", activity: "活动", venue: "地点",
    startsAt: "开始（北京时间）", endsAt: "结束（北京时间）", capacity: "名额", schedule: "安排",
    festival: "节日", sessionsTitle: "场次与名额", when: "时间", taken: "已报", left: "剩余", waiting: "候补",
    status: "状态", live: (time) => `每 ${POLL_MS / 1000} 秒自动刷新 · 最后更新 ${time}`,
    liveSocket: (time) => `实时更新 · 最后更新 ${time}`,
    offline: "暂时无法刷新，稍后自动重试", noFestival: "请先创建节日。", noSessions: "还没有场次。",
    scheduled: "进行中", cancelled: "已取消", cancelSession: "取消场次", reason: "取消原因",
    confirmCancel: "确认取消", keep: "不取消", clash: "与同地点其他场次时间冲突",
    created: (name) => `已创建：${name}`, festivalDates: (a, b) => `${a} 至 ${b}`,
  },
  en: {
    pageTitle: "Festival console", brand: "Festival console", logOut: "Log out", loading: "Loading…",
    loginTitle: "Organiser log-in", username: "Username", password: "Password", logIn: "Log in",
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
    cancelSession: "Cancel session", reason: "Reason", confirmCancel: "Confirm", keep: "Keep it",
    clash: "Overlaps another session at this venue", created: (name) => `Created: ${name}`,
    festivalDates: (a, b) => `${a} to ${b}`,
  },
});

const ME = "{ me { id name username roles communities } }";
const FESTIVALS = "{ festivals { id name communityIds startsOn endsOn } }";
const FESTIVAL = `query($id: ID!) { festival(id: $id) { id name communityIds startsOn endsOn activities {
  id title communityId sessions { id venue startsAt endsAt capacity seatsTaken seatsLeft waitlistLength status cancelReason } } } }`;
const CREATE_FESTIVAL = "mutation($input: CreateFestivalInput!) { createFestival(input: $input) { id name } }";
const CREATE_ACTIVITY = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id title } }";
const SCHEDULE = "mutation($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }";
const CANCEL_SESSION = "mutation($input: CancelSessionInput!) { cancelSession(input: $input) { id status } }";

const $ = (id) => document.getElementById(id);
const state = { me: null, festivals: [], festival: null, cancelling: null, timer: null, updatedAt: null, live: false };
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
  state.festivals = (await gql(FESTIVALS)).festivals.filter((f) => f.communityIds.some((c) => mine.has(c)));
  const select = $("festival");
  const previous = chosen ?? select.value;
  select.replaceChildren(...state.festivals.map((f) => el("option", { value: f.id }, f.name)));
  if (state.festivals.some((f) => f.id === previous)) select.value = previous;
  else if (state.festivals.length) select.value = state.festivals.at(-1).id;
  await loadFestival();
}

async function loadFestival() {
  const id = $("festival").value;
  state.festival = id ? (await gql(FESTIVAL, { id })).festival : null;
  state.updatedAt = new Date();
  live.watch((state.festival?.activities ?? []).flatMap((a) => a.sessions.map((s) => s.id)));
  render();
}

function render() {
  const festival = state.festival;
  $("festival-dates").textContent = festival ? t("festivalDates", festival.startsOn, festival.endsOn) : t("noFestival");
  const activities = festival?.activities ?? [];
  const select = $("session-activity");
  const previous = select.value;
  select.replaceChildren(...activities.map((a) => el("option", { value: a.id }, a.title)));
  if (activities.some((a) => a.id === previous)) select.value = previous;
  $("activity-form").querySelector("[type=submit]").disabled = !festival;
  $("session-form").querySelector("[type=submit]").disabled = !activities.length;
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

function renderSessions(rebuild = false) {
  const rows = (state.festival?.activities ?? []).flatMap((a) => a.sessions.map((s) => ({ ...s, title: a.title })))
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
  if (!rebuild && state.cancelling && rows.some((r) => r.id === state.cancelling)) {
    // Someone is typing a reason: refresh the numbers only, leave the form alone.
    for (const row of rows) {
      const tr = body.querySelector(`[data-session='${row.id}']`);
      if (!tr) continue;
      for (const [cell, value] of [["taken", row.seatsTaken], ["left", row.seatsLeft], ["waiting", row.waitlistLength]]) {
        tr.querySelector(`[data-cell=${cell}]`).textContent = value;
      }
    }
    return;
  }
  body.replaceChildren(...rows.map((row) => el("tr", {
    class: clashing.has(row.id) ? "clash" : null, dataset: { session: row.id },
  },
    el("td", {}, row.title),
    el("td", {}, `${fmtDateTime(row.startsAt)}–${fmtTime(row.endsAt)}`),
    el("td", {}, row.venue, clashing.has(row.id) ? el("div", { class: "note" }, t("clash")) : null),
    el("td", { class: "num", dataset: { cell: "taken" } }, `${row.seatsTaken}`, el("span", { class: "muted" }, `/${row.capacity}`)),
    el("td", { class: "num", dataset: { cell: "left" } }, row.seatsLeft),
    el("td", { class: "num", dataset: { cell: "waiting" } }, row.waitlistLength),
    el("td", {}, statusCell(row)))));
}

function statusCell(row) {
  if (row.status === "CANCELLED") {
    return el("span", {}, el("span", { class: "badge off" }, t("cancelled")), row.cancelReason ? el("div", { class: "note" }, row.cancelReason) : null);
  }
  if (state.cancelling !== row.id) {
    return el("div", {}, el("span", { class: "badge ok" }, t("scheduled")),
      el("button", { type: "button", class: "quiet", onclick: () => { state.cancelling = row.id; renderSessions(true); } }, t("cancelSession")));
  }
  const reason = el("input", { "aria-label": t("reason"), placeholder: t("reason"), maxlength: 200 });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const confirm = el("button", { type: "button" }, t("confirmCancel"));
  confirm.addEventListener("click", () => busy(confirm, error, async () => {
    await keyed(`cancel-session:${row.id}`, (key) =>
      gql(CANCEL_SESSION, { input: { sessionId: row.id, reason: reason.value.trim(), idempotencyKey: key } }));
    state.cancelling = null;
    await loadFestival();
  }));
  const keep = el("button", { type: "button", class: "quiet", onclick: () => { state.cancelling = null; renderSessions(true); } }, t("keep"));
  setTimeout(() => reason.focus(), 0);
  return el("div", {}, reason, error, el("div", { class: "row" }, confirm, keep));
}

/** A create form: its idempotency key lives until the answer is final or the form is edited. */
function createForm(form, action, send, clear = []) {
  const button = form.querySelector("[type=submit]");
  const error = form.querySelector(".error");
  form.addEventListener("input", () => sessionStorage.removeItem(`linli.key.${action}`));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, error, async () => {
      await keyed(action, send);
      for (const id of clear) $(id).value = "";
    });
  });
}

createForm($("festival-form"), "create-festival", async (key) => {
  const data = await gql(CREATE_FESTIVAL, { input: {
    name: $("festival-name").value.trim(), communityIds: [$("festival-community").value],
    startsOn: $("festival-starts").value, endsOn: $("festival-ends").value, idempotencyKey: key,
  } });
  await loadFestivals(data.createFestival.id);
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
}, ["activity-title", "activity-category", "activity-description"]);

createForm($("session-form"), "schedule-session", async (key) => {
  await gql(SCHEDULE, { input: {
    activityId: $("session-activity").value, venue: $("session-venue").value.trim(),
    startsAt: beijingInput($("session-starts").value), endsAt: beijingInput($("session-ends").value),
    capacity: Number($("session-capacity").value), idempotencyKey: key,
  } });
  await loadFestival();
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
  }, state.live ? POLL_LIVE_MS : POLL_MS);
}

async function enterApp() {
  state.me = (await gql(ME)).me;
  showView("app");
  $("logout").hidden = false;
  $("hello").textContent = t("hello", state.me.name || state.me.username, state.me.communities.join("、"));
  $("festival-community").replaceChildren(...state.me.communities.map((c) => el("option", { value: c }, c)));
  await loadFestivals();
  live.connect();
  poll();
}

async function start() {
  $("loading").hidden = true;
  clearTimeout(state.timer);
  const me = await whoAmI("id roles");
  if (!me || !me.roles.some((r) => ["organiser", "community_admin", "platform_admin"].includes(r))) {
    $("logout").hidden = !me;
    showView("login");
    return;
  }
  await enterApp();
}

langSwitch($("lang"));
onLangChange(() => { if (state.me) { $("hello").textContent = t("hello", state.me.name || state.me.username, state.me.communities.join("、")); render(); } });
$("festival").addEventListener("change", () => loadFestival().catch(reportError));
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
