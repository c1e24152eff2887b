// The volunteers' scanner page: pick my shift, check in with the venue's station code, check out.
import {
  ApiError, busy, el, fmtDateTime, fmtTime, gql, keyed, langSwitch, logOut, onLangChange,
  phoneLogIn, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";

useStrings({
  zh: {
    pageTitle: "志愿者签到", brand: "志愿者签到", logOut: "退出", loading: "正在加载…",
    loginTitle: "志愿者登录", phone: "手机号", code: "验证码", logIn: "登录",
    myShifts: "我的班次", noShifts: "您还没有报名志愿者班次。", hoursTitle: "服务时长",
    hours: (h, m) => `累计 ${h} 小时（${m} 分钟）`, stationCode: "站点码（二维码下方的字符）",
    useCamera: "用摄像头扫码", stopCamera: "关闭摄像头", checkIn: "签到", checkOut: "签退",
    checkedIn: (time) => `已签到 ${time}`, checkedOut: (a, b, m) => `已签到 ${a}，已签退 ${b}，本次计入 ${m} 分钟`,
    again: "您已签到过，无需重复签到", choose: "选择", chosen: "当前班次", noCamera: "无法打开摄像头，请输入站点码",
  },
  en: {
    pageTitle: "Volunteer check-in", brand: "Volunteer check-in", logOut: "Log out", loading: "Loading…",
    loginTitle: "Volunteer log-in", phone: "Mobile number", code: "Code", logIn: "Log in",
    myShifts: "My shifts", noShifts: "You have not signed up for a shift yet.", hoursTitle: "Service hours",
    hours: (h, m) => `${h} hours in total (${m} minutes)`, stationCode: "Station code (the characters under the QR)",
    useCamera: "Scan with the camera", stopCamera: "Close the camera", checkIn: "Check in", checkOut: "Check out",
    checkedIn: (time) => `Checked in at ${time}`,
    checkedOut: (a, b, m) => `Checked in ${a}, out ${b}: ${m} minutes credited`,
    again: "You were already checked in", choose: "Choose", chosen: "Current shift",
    noCamera: "Cannot open the camera; type the station code",
  },
});

const SHIFTS = "{ myShiftSignups { id shift { id venue role startsAt endsAt } } }";
const MY_CHECK_IN = "query($id: ID!) { myCheckIn(shiftId: $id) { id checkedInAt checkedOutAt minutesCredited } }";
const HOURS = "{ myServiceHours { totalMinutes hours } }";
const CHECK_IN = `mutation($input: CheckInInput!) {
  checkIn(input: $input) { id checkedInAt checkedOutAt minutesCredited firstScan } }`;
const CHECK_OUT = `mutation($input: CheckOutInput!) {
  checkOut(input: $input) { id checkedInAt checkedOutAt minutesCredited } }`;

const $ = (id) => document.getElementById(id);
const state = { shifts: [], shiftId: null, checkIn: null, hours: null, repeated: false, stream: null };
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
  state.shifts = (await gql(SHIFTS)).myShiftSignups.map((s) => s.shift).filter(Boolean)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const now = new Date().toISOString();
  if (!state.shifts.some((s) => s.id === state.shiftId)) {
    const current = state.shifts.find((s) => s.endsAt > now) ?? state.shifts.at(-1);
    state.shiftId = current?.id ?? null;
  }
  renderShifts();
  await loadCheckIn();
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
            onclick: () => { state.shiftId = shift.id; state.repeated = false; renderShifts(); loadCheckIn().catch(reportError); },
          }, chosen ? t("chosen") : t("choose")));
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
  $("check-out").hidden = !open;
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

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("check-in"), checkError, () => checkIn($("station-code").value));
});

$("check-out").addEventListener("click", () => busy($("check-out"), $("app-error"), async () => {
  const shiftId = state.shiftId;
  const data = await keyed(`check-out:${shiftId}:${state.checkIn.id}`, (key) =>
    gql(CHECK_OUT, { input: { shiftId, idempotencyKey: key } }));
  state.checkIn = data.checkOut;
  renderCheck();
  await loadHours();
}));

// The camera path: frames go through jsQR (from npm, served by the gateway) until a station code shows.
function loadDecoder() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const script = el("script", { src: "/vendor/jsqr.js" });
    script.addEventListener("load", () => resolve(window.jsQR));
    script.addEventListener("error", reject);
    document.head.append(script);
  });
}

function stopCamera() {
  state.stream?.getTracks().forEach((track) => track.stop());
  state.stream = null;
  $("camera").hidden = true;
  $("camera-button").textContent = t("useCamera");
}

async function startCamera() {
  const video = $("camera");
  let decode;
  try {
    decode = await loadDecoder();
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    showError(checkError, new ApiError("NO_CAMERA", t("noCamera"), t("noCamera"), false));
    stopCamera();
    return;
  }
  video.srcObject = state.stream;
  video.hidden = false;
  $("camera-button").textContent = t("stopCamera");
  await video.play();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const look = async () => {
    if (!state.stream) return;
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const found = decode(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (found && /^LS[A-Z2-7]+$/.test(found.data.trim())) {
        stopCamera();
        $("station-code").value = found.data.trim();
        await busy($("check-in"), checkError, () => checkIn(found.data));
        return;
      }
    }
    setTimeout(look, 200);
  };
  look();
}

$("camera-button").hidden = !navigator.mediaDevices?.getUserMedia;
$("camera-button").addEventListener("click", () => (state.stream ? stopCamera() : startCamera()));

async function enterApp() {
  showView("app");
  $("logout").hidden = false;
  await Promise.all([loadShifts(), loadHours()]);
}

async function start() {
  $("loading").hidden = true;
  const me = await whoAmI("id");
  if (!me) {
    $("logout").hidden = true;
    showView("login");
    return;
  }
  await enterApp();
}

langSwitch($("lang"));
onLangChange(() => { renderShifts(); renderCheck(); renderHours(); if (!state.stream) stopCamera(); });
phoneLogIn($("login-form"), () => enterApp().catch(reportError));
$("logout").addEventListener("click", async () => { stopCamera(); await logOut(); await start(); });
start().catch((error) => { $("loading").hidden = true; showView("app"); reportError(error); });
