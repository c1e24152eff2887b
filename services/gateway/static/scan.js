// The volunteers' scanner page: pick my shift, check in with the venue's station code, check out.
import {
  ApiError, allPages, busy, el, fmtDateTime, fmtTime, gql, keyed, langSwitch, logOut, onLangChange,
  phoneLogIn, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";
import { doorSearch } from "/static/door-search.js";
import { OfflineDoor } from "/static/offline-door.js";
import { WITHDRAW_FIELDS, startWithdrawals, withdrawPart } from "/static/scan-withdraw.js";

useStrings({
  zh: {
    pageTitle: "扫码签到", brand: "扫码签到", logOut: "退出", loading: "正在加载…",
    loginTitle: "志愿者登录", phone: "手机号", code: "验证码", logIn: "登录",
    myShifts: "我的班次", noShifts: "您还没有报名志愿者班次。", hoursTitle: "服务时长",
    hours: (h, m) => `累计 ${h} 小时（${m} 分钟）`, stationCode: "站点码（签到屏上的6位数字）",
    checkOutAsk: (m) => `确认签退？本次将计入 ${m} 分钟`, checkOutYes: "确认签退", checkOutNo: "不签退，继续服务",
    checkOutKept: "未签退，您仍在服务中",
    useCamera: "用摄像头扫码", stopCamera: "关闭摄像头", checkIn: "签到", checkOut: "签退",
    checkedIn: (time) => `已签到 ${time}`, checkedOut: (a, b, m) => `已签到 ${a}，已签退 ${b}，本次计入 ${m} 分钟`,
    again: "您已签到过，无需重复签到", choose: "选择", chosen: "当前班次", noCamera: "无法打开摄像头，请输入站点码",
    openShifts: "可报名的班次", join: "报名", placesLeft: (n) => `还差 ${n} 人`, noOpenShifts: "暂时没有可报名的班次。",
    needCommunity: "填写所在社区后，这里会列出社区的志愿者班次。", toProfile: "去填写（邻里节 › 我的）",
    iAmStaff: "我是工作人员（用户名登录）", iAmVolunteer: "我是志愿者（手机号登录）", staffLogin: "工作人员登录",
    username: "用户名", password: "密码", modeTickets: "居民入场码", modeCards: "志愿者卡", session: "场次",
    shift: "班次", scannedCode: "扫描或输入二维码下方的字符", admit: "确认入场", cardIn: "志愿者签到",
    cardOut: "志愿者签退", admitted: "刚刚通过",
    ticketAdmitted: (who, n, time) => `${time} 已入场：${who}，共 ${n} 人`,
    cardCheckedIn: (time, again) => (again ? `${time} 该志愿者已签到过` : `${time} 志愿者已签到`),
    cardCheckedOut: (time, m) => `${time} 志愿者已签退，本次计入 ${m} 分钟`,
    toWishes: "心愿墙：认领居民的微心愿", override: "人工放行并记录",
  },
  en: {
    pageTitle: "Check-in scanner", brand: "Check-in", logOut: "Log out", loading: "Loading…",
    loginTitle: "Volunteer log-in", phone: "Mobile number", code: "Code", logIn: "Log in",
    myShifts: "My shifts", noShifts: "You have not signed up for a shift yet.", hoursTitle: "Service hours",
    hours: (h, m) => `${h} hours in total (${m} minutes)`, stationCode: "Station code (the six digits on the station screen)",
    checkOutAsk: (m) => `Check out now? This visit will count ${m} minutes`, checkOutYes: "Check out",
    checkOutNo: "Not yet, keep serving", checkOutKept: "Not checked out: you are still on duty",
    useCamera: "Scan with the camera", stopCamera: "Close the camera", checkIn: "Check in", checkOut: "Check out",
    checkedIn: (time) => `Checked in at ${time}`,
    checkedOut: (a, b, m) => `Checked in ${a}, out ${b}: ${m} minutes credited`,
    again: "You were already checked in", choose: "Choose", chosen: "Current shift",
    noCamera: "Cannot open the camera; type the code",
    openShifts: "Open shifts", join: "Sign up", placesLeft: (n) => `${n} more needed`, noOpenShifts: "No open shifts right now.",
    needCommunity: "Say which community you live in and its volunteer shifts show here.", toProfile: "Go to My details",
    iAmStaff: "I am staff (username log-in)", iAmVolunteer: "I am a volunteer (phone log-in)", staffLogin: "Staff log-in",
    username: "Username", password: "Password", modeTickets: "Residents' tickets", modeCards: "Volunteer cards",
    session: "Session", shift: "Shift", scannedCode: "Scan, or type the characters under the QR", admit: "Admit",
    cardIn: "Check volunteer in", cardOut: "Check volunteer out", admitted: "Just through the door",
    ticketAdmitted: (who, n, time) => `${time} admitted: ${who}, ${n} ${n === 1 ? "person" : "people"}`,
    cardCheckedIn: (time, again) => (again ? `${time} volunteer was already checked in` : `${time} volunteer checked in`),
    cardCheckedOut: (time, m) => `${time} volunteer checked out: ${m} minutes credited`,
    toWishes: "Wish wall: take up a resident's wish", override: "Override by hand and record",
  },
});

const SHIFTS = `query($limit: Int!, $after: ID) { myShiftSignups(limit: $limit, after: $after) { id shift { id venue role startsAt endsAt ${WITHDRAW_FIELDS} } } }`;
const MY_CHECK_IN = "query($id: ID!) { myCheckIn(shiftId: $id) { id checkedInAt checkedOutAt minutesCredited } }";
const COMMUNITY_SHIFTS = "query($c: String!, $limit: Int!, $after: ID) { shifts(communityId: $c, limit: $limit, after: $after) { id venue role startsAt endsAt placesLeft } }";
const SIGN_UP_FOR_SHIFT = "mutation($input: SignUpForShiftInput!) { signUpForShift(input: $input) { id } }";
const HOURS = "{ myServiceHours { totalMinutes hours } }";
const CHECK_IN = `mutation($input: CheckInInput!) {
  checkIn(input: $input) { id checkedInAt checkedOutAt minutesCredited firstScan } }`;
const CHECK_OUT_PREVIEW = "query($id: ID!) { myCheckOutPreview(shiftId: $id) }";
const CHECK_OUT = `mutation($input: CheckOutInput!) {
  checkOut(input: $input) { id checkedInAt checkedOutAt minutesCredited } }`;

const $ = (id) => document.getElementById(id);
const state = { me: null, shifts: [], shiftId: null, checkIn: null, hours: null, repeated: false };
const form = $("check-form");
const checkError = form.querySelector(".error");

function reportError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.code === "UNAUTHENTICATED") return start();
  showError($("app-error"), error);
  return undefined;
}

/** A station code as typed: spaces (the display groups it) and case do not matter. */
function normalise(code) {
  return code.replace(/\s+/g, "").toUpperCase();
}

async function loadShifts() {
  state.shifts = (await allPages(SHIFTS, {}, (d) => d.myShiftSignups)).map((s) => s.shift).filter(Boolean)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const now = new Date().toISOString();
  if (!state.shifts.some((s) => s.id === state.shiftId)) {
    const current = state.shifts.find((s) => s.endsAt > now) ?? state.shifts.at(-1);
    state.shiftId = current?.id ?? null;
  }
  renderShifts();
  await loadCheckIn();
}

/** Shifts of my communities still open, that I am not on yet: one tap to sign up. */
async function loadOpenShifts() {
  const box = $("open-shifts");
  const communities = state.me?.communities ?? [];
  if (!communities.length) {
    box.replaceChildren(el("p", { class: "note" }, t("needCommunity"), " ", el("a", { href: "/" }, t("toProfile"))));
    return;
  }
  const now = new Date().toISOString();
  const mine = new Set(state.shifts.map((s) => s.id));
  const open = (await Promise.all(communities.map((c) => allPages(COMMUNITY_SHIFTS, { c }, (d) => d.shifts)))).flat()
    .filter((s) => !mine.has(s.id) && s.endsAt > now && s.placesLeft > 0)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  box.replaceChildren(...(open.length
    ? open.map((shift) => {
        const error = el("p", { class: "error", role: "alert", hidden: true });
        const join = el("button", { type: "button" }, t("join"));
        join.addEventListener("click", () => busy(join, error, async () => {
          await keyed(`shift-signup:${shift.id}`, (key) =>
            gql(SIGN_UP_FOR_SHIFT, { input: { shiftId: shift.id, idempotencyKey: key } }));
          state.shiftId = shift.id;
          await loadShifts();
          await loadOpenShifts();
        }));
        return el("article", { class: "card row open-shift", dataset: { shift: shift.id } },
          el("div", {}, el("h3", {}, shift.role), el("p", { class: "muted" },
            `${fmtDateTime(shift.startsAt)}–${fmtTime(shift.endsAt)} · ${shift.venue} · ${t("placesLeft", shift.placesLeft)}`)),
          join, error);
      })
    : [el("p", { class: "note" }, t("noOpenShifts"))]));
}

async function loadCheckIn() {
  state.checkIn = state.shiftId ? (await gql(MY_CHECK_IN, { id: state.shiftId })).myCheckIn : null;
  renderCheck();
}

async function loadHours() {
  state.hours = (await gql(HOURS)).myServiceHours;
  renderHours();
}

function renderShifts() {
  $("shifts").replaceChildren(...(state.shifts.length
    ? state.shifts.map((shift) => {
        const chosen = shift.id === state.shiftId;
        return el("article", { class: "card row shift", dataset: { shift: shift.id } },
          el("div", {}, el("h3", {}, shift.role), el("p", { class: "muted" },
            `${fmtDateTime(shift.startsAt)}–${fmtTime(shift.endsAt)} · ${shift.venue}`)),
          el("button", { type: "button", class: chosen ? "" : "quiet", "aria-pressed": String(chosen),
            onclick: () => { state.shiftId = shift.id; state.repeated = false; $("check-out-ask").hidden = true; renderShifts(); loadCheckIn().catch(reportError); },
          }, chosen ? t("chosen") : t("choose")),
          withdrawPart(shift, async () => { await loadShifts(); await loadOpenShifts(); }, sayWithdrawn));
      })
    : [el("p", { class: "note" }, t("noShifts"))]));
}

function renderCheck() {
  const shift = state.shifts.find((s) => s.id === state.shiftId);
  form.hidden = !shift;
  if (!shift) return;
  $("check-title").textContent = shift.role;
  $("check-where").textContent = `${fmtDateTime(shift.startsAt)}–${fmtTime(shift.endsAt)} · ${shift.venue}`;
  const visit = state.checkIn;
  const open = visit && !visit.checkedOutAt;
  $("check-in-part").hidden = Boolean(open);
  $("check-out").hidden = !open || !$("check-out-ask").hidden;
  const status = $("check-state");
  status.hidden = !visit;
  if (visit) {
    status.textContent = visit.checkedOutAt
      ? t("checkedOut", fmtTime(visit.checkedInAt), fmtTime(visit.checkedOutAt), visit.minutesCredited ?? 0)
      : `${t("checkedIn", fmtTime(visit.checkedInAt))}${state.repeated ? ` · ${t("again")}` : ""}`;
  }
}

function renderHours() {
  if (state.hours) $("hours").textContent = t("hours", state.hours.hours, state.hours.totalMinutes);
}

async function checkIn(code) {
  const shiftId = state.shiftId;
  const typed = normalise(code);
  const data = await keyed(`check-in:${shiftId}:${typed}`, (key) =>
    gql(CHECK_IN, { input: { shiftId, code: typed, idempotencyKey: key } }));
  state.checkIn = data.checkIn;
  state.repeated = data.checkIn.firstScan === false;
  $("station-code").value = "";
  renderCheck();
}

// A new attempt replaces the last refusal.
$("station-code").addEventListener("input", () => showError(checkError, null));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("check-in"), checkError, () => checkIn($("station-code").value));
});

// Check-out asks once more, with the minutes it will record: a mis-tap must not end a shift.
$("check-out").addEventListener("click", () => busy($("check-out"), $("app-error"), async () => {
  const minutes = (await gql(CHECK_OUT_PREVIEW, { id: state.shiftId })).myCheckOutPreview ?? 0;
  $("check-out-question").textContent = t("checkOutAsk", minutes);
  $("check-out").hidden = true;
  $("check-out-ask").hidden = false;
  $("check-out-yes").focus();
}));
$("check-out-no").addEventListener("click", () => {
  $("check-out-ask").hidden = true;
  renderCheck();
  $("check-state").textContent += ` · ${t("checkOutKept")}`;
});
$("check-out-yes").addEventListener("click", () => busy($("check-out-yes"), $("app-error"), async () => {
  const shiftId = state.shiftId;
  const data = await keyed(`check-out:${shiftId}:${state.checkIn.id}`, (key) =>
    gql(CHECK_OUT, { input: { shiftId, idempotencyKey: key } }));
  state.checkIn = data.checkOut;
  $("check-out-ask").hidden = true;
  renderCheck();
  await loadHours();
}));

// The camera path: frames go through jsQR (from npm, served by the gateway) until a wanted code shows.
function loadDecoder() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const script = el("script", { src: "/vendor/jsqr.js" });
    script.addEventListener("load", () => resolve(window.jsQR));
    script.addEventListener("error", reject);
    document.head.append(script);
  });
}

/** A camera button and its video: reads QR codes matching ``wanted`` and hands each to ``onCode``. */
class Camera {
  constructor(button, video, errorBox, wanted, onCode) {
    Object.assign(this, { button, video, errorBox, wanted, onCode, stream: null });
    button.hidden = !navigator.mediaDevices?.getUserMedia;
    button.addEventListener("click", () => (this.stream ? this.stop() : this.start()));
  }

  stop() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.hidden = true;
    this.button.textContent = t("useCamera");
  }

  async start() {
    let decode;
    try {
      decode = await loadDecoder();
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      showError(this.errorBox, new ApiError("NO_CAMERA", t("noCamera"), t("noCamera"), false));
      this.stop();
      return;
    }
    const video = this.video;
    video.srcObject = this.stream;
    video.hidden = false;
    this.button.textContent = t("stopCamera");
    await video.play();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const look = async () => {
      if (!this.stream) return;
      if (video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const found = decode(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
        const text = found?.data.trim().toUpperCase();
        if (text && this.wanted().test(text)) {
          this.stop();
          await this.onCode(text);
          return;
        }
      }
      setTimeout(look, 200);
    };
    look();
  }
}

const camera = new Camera($("camera-button"), $("camera"), checkError, () => /^LS[A-Z2-7]+$/, async (code) => {
  $("station-code").value = code;
  await busy($("check-in"), checkError, () => checkIn(code));
});

// Staff at the door: admit residents by their ticket, check volunteers in or out by their card.
const door = { mode: "tickets", log: [], me: null, search: null };
const doorForm = $("door-form");
const doorError = doorForm.querySelector(".error");
const FESTIVALS = `query($limit: Int!, $after: ID) { festivals(limit: $limit, after: $after) {
  id name communityIds activities(limit: 200) { id title sessions(limit: 200) { id communityId venue startsAt endsAt status } } } }`;
const STAFF_SHIFTS = "query($c: String!, $limit: Int!, $after: ID) { shifts(communityId: $c, limit: $limit, after: $after) { id venue role startsAt endsAt } }";
const CHECK_IN_TICKET = `mutation($input: CheckInTicketInput!) {
  checkInTicket(input: $input) { signupId partySize checkedInAt resident people partyNames } }`;

function showMode(mode) {
  door.mode = mode;
  for (const tab of document.querySelectorAll("[data-mode]")) tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
  for (const part of doorForm.querySelectorAll("[data-for]")) part.hidden = part.dataset.for !== mode;
  $("door-submit").textContent = mode === "tickets" ? t("admit") : t("cardIn");
  $("door-find").hidden = mode !== "tickets";
  $("offline-door").hidden = mode !== "tickets";
  showError(doorError, null);
}

async function enterStaff(me) {
  showView("staff");
  $("logout").hidden = false;
  door.me = me;
  await loadDoorLists();
  door.search ??= doorSearch($("door-find"), () => $("door-session").value, logAdmission);
  door.offline.show();
  door.offline.sync();
  showMode(door.mode);
}

/** The sessions and shifts of my communities, soonest first; kept choices survive a reload. */
async function loadDoorLists() {
  const me = door.me;
  const keep = [$("door-session").value, $("door-shift").value];
  const mine = new Set(me.communities);
  const festivals = (await allPages(FESTIVALS, {}, (d) => d.festivals)).filter((f) => f.communityIds.some((c) => mine.has(c)));
  const now = new Date().toISOString();
  const everywhere = me.roles.includes("platform_admin");
  // A shared festival holds other communities' sessions too: the door lists only my communities'.
  const sessions = festivals.flatMap((f) => f.activities.flatMap((a) => a.sessions
    .filter((s) => s.status === "SCHEDULED" && (everywhere || mine.has(s.communityId)))
    .map((s) => ({ ...s, label: `${a.title} · ${fmtDateTime(s.startsAt)} · ${s.venue}` }))))
    .sort((a, b) => (a.endsAt < now) - (b.endsAt < now) || a.startsAt.localeCompare(b.startsAt));
  $("door-session").replaceChildren(...sessions.map((s) => el("option", { value: s.id }, s.label)));
  const shifts = (await Promise.all(me.communities.map((c) => allPages(STAFF_SHIFTS, { c }, (d) => d.shifts))))
    .flat().sort((a, b) => (a.endsAt < now) - (b.endsAt < now) || a.startsAt.localeCompare(b.startsAt));
  $("door-shift").replaceChildren(...shifts.map((s) => el("option", { value: s.id }, `${s.role} · ${fmtDateTime(s.startsAt)} · ${s.venue}`)));
  if (sessions.some((s) => s.id === keep[0])) $("door-session").value = keep[0];
  if (shifts.some((s) => s.id === keep[1])) $("door-shift").value = keep[1];
}

function logAdmission(line) {
  door.log.unshift(line);
  door.log.length = Math.min(door.log.length, 20);
  $("door-log").replaceChildren(...door.log.map((entry) => el("p", { class: "card" }, entry)));
}

async function admit(raw) {
  const code = normalise(raw);
  if (door.mode === "tickets" && door.offline.offline()) {
    await door.offline.admit(code, $("door-override"));
  } else if (door.mode === "tickets") {
    const sessionId = $("door-session").value;
    const data = await keyed(`ticket:${sessionId}:${code}`, (key) =>
      gql(CHECK_IN_TICKET, { input: { sessionId, code, idempotencyKey: key } }));
    const entry = data.checkInTicket;
    const who = entry.partyNames.length ? entry.partyNames.join("、") : entry.resident;
    logAdmission(t("ticketAdmitted", who, entry.people, fmtTime(entry.checkedInAt)));
  } else {
    const shiftId = $("door-shift").value;
    const data = await keyed(`card:${shiftId}:${code}`, (key) =>
      gql(CHECK_IN, { input: { shiftId, code, idempotencyKey: key } }));
    logAdmission(t("cardCheckedIn", fmtTime(data.checkIn.checkedInAt), data.checkIn.firstScan === false));
  }
  $("door-code").value = "";
}

door.offline = new OfflineDoor($("offline-door"), () => $("door-session").value, logAdmission);
$("offline-prepare").addEventListener("click", () => busy($("offline-prepare"), door.offline.error, () => door.offline.prepare()));
$("offline-release").addEventListener("click", () => busy($("offline-release"), door.offline.error, () => door.offline.release()));
$("door-override").addEventListener("click", () => busy($("door-override"), doorError, async () => {
  await door.offline.override($("door-override"));
  $("door-code").value = "";
}));
$("door-code").addEventListener("input", () => { showError(doorError, null); $("door-override").hidden = true; });
$("door-session").addEventListener("change", () => { door.search?.clear(); door.offline.show(); });
doorForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("door-submit"), doorError, () => admit($("door-code").value));
});
$("door-out").addEventListener("click", () => busy($("door-out"), doorError, async () => {
  const shiftId = $("door-shift").value;
  const card = normalise($("door-code").value);
  const data = await keyed(`card-out:${shiftId}:${card}`, (key) =>
    gql(CHECK_OUT, { input: { shiftId, card, idempotencyKey: key } }));
  logAdmission(t("cardCheckedOut", fmtTime(data.checkOut.checkedOutAt), data.checkOut.minutesCredited ?? 0));
  $("door-code").value = "";
}));
for (const tab of document.querySelectorAll("[data-mode]")) {
  tab.addEventListener("click", () => {
    showMode(tab.dataset.mode);
    loadDoorLists().catch((error) => showError($("staff-error"), error));
  });
}
const doorCamera = new Camera($("door-camera"), $("door-video"), doorError,
  () => (door.mode === "tickets" ? /^LT[A-Z2-7]+$/ : /^LV[A-Z2-7]+$/),
  async (code) => {
    $("door-code").value = code;
    await busy($("door-submit"), doorError, () => admit(code));
  });

$("to-staff").addEventListener("click", () => {
  const staffForm = $("staff-form");
  staffForm.hidden = !staffForm.hidden;
  $("login-form").hidden = !staffForm.hidden;
  $("to-staff").textContent = staffForm.hidden ? t("iAmStaff") : t("iAmVolunteer");
});
$("staff-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
    await gql("mutation($u: String!, $p: String!) { organiserLogIn(username: $u, password: $p) { me { id } } }",
      { u: $("username").value.trim(), p: $("password").value });
    $("password").value = "";
    await start();
  });
});

function sayWithdrawn(text) {
  $("shift-notice").hidden = !text;
  $("shift-notice").textContent = text ?? "";
}

async function enterApp(me) {
  startWithdrawals(renderShifts);
  showView("app");
  $("logout").hidden = false;
  state.me = me ?? (await whoAmI("id roles communities"));
  await Promise.all([loadShifts(), loadHours()]);
  await loadOpenShifts();
}

const STAFF = ["organiser", "community_admin", "scanner", "platform_admin"];

async function start() {
  $("loading").hidden = true;
  const me = await whoAmI("id roles communities");
  if (!me) {
    $("logout").hidden = true;
    showView("login");
    return;
  }
  if (me.roles.some((r) => STAFF.includes(r))) await enterStaff(me);
  else await enterApp(me);
}

// The scanner installs as an app and keeps working when the network drops (scan-sw.js).
navigator.serviceWorker?.register("/scan-sw.js", { scope: "/" }).catch(() => null);

langSwitch($("lang"));
onLangChange(() => {
  renderShifts(); renderCheck(); renderHours();
  if (state.me && !$("open-shifts").closest("[data-view]").hidden) loadOpenShifts().catch(reportError);
  if (!camera.stream) camera.stop();
  if (!doorCamera.stream) doorCamera.stop();
  showMode(door.mode);
  $("to-staff").textContent = $("staff-form").hidden ? t("iAmStaff") : t("iAmVolunteer");
});
phoneLogIn($("login-form"), () => enterApp(null).catch(reportError));
$("logout").addEventListener("click", async () => { camera.stop(); doorCamera.stop(); await logOut(); await start(); });
start().catch((error) => { $("loading").hidden = true; showView("app"); reportError(error); });
