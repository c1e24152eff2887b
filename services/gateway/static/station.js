// The venue's station display: the rotating station code, as a QR and as characters to type.
import {
  ApiError, busy, gql, langSwitch, logOut, onLangChange, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";

const REFRESH_MS = 5000; // codes rotate every 30 s; a fresh one replaces the old well before it expires

useStrings({
  zh: {
    pageTitle: "志愿者签到站", brand: "志愿者签到站", logOut: "退出", loading: "正在加载…",
    loginTitle: "工作人员登录", loginNote: "签到站需由本社区的组织者或扫码员登录后显示。",
    username: "用户名", password: "密码", logIn: "登录", venueLabel: "服务地点", show: "显示签到码",
    instructions: "志愿者请用手机扫描二维码签到，或在“扫码签到”页输入上方6位数字", qrAlt: "签到二维码",
    digitsLabel: "签到数字码",
    validFor: (s) => `数字码和二维码自动更新 · 本码还可使用 ${s} 秒`, offline: "网络中断，正在重试…",
  },
  en: {
    pageTitle: "Volunteer check-in station", brand: "Station", logOut: "Log out", loading: "Loading…",
    loginTitle: "Staff log-in", loginNote: "An organiser or scanner of this community logs in to show the station.",
    username: "Username", password: "Password", logIn: "Log in", venueLabel: "Venue", show: "Show the code",
    instructions: "Volunteers: scan the QR with your phone, or type the six digits above on the check-in page",
    qrAlt: "Check-in QR code", digitsLabel: "Check-in digits",
    validFor: (s) => `Digits and QR refresh by themselves · these work for ${s} more seconds`, offline: "Offline; retrying…",
  },
});

const STATION_CODE = "query($venue: String!) { stationCode(venue: $venue) { code digits pngDataUrl validUntil } }";
const $ = (id) => document.getElementById(id);
const state = { venue: new URLSearchParams(location.search).get("venue") ?? "", code: null, timer: null, tick: null };

/** Groups of four, so a person can type it: the scanner page ignores the spaces. */
function grouped(code) {
  return code.match(/.{1,4}/g).join(" ");
}

function renderCode() {
  const code = state.code;
  $("code-box").hidden = !code;
  $("venue").textContent = state.venue;
  if (!code) return;
  const img = $("qr");
  if (img.src !== code.pngDataUrl) img.src = code.pngDataUrl;
  img.alt = t("qrAlt");
  $("code-text").textContent = grouped(code.code);
  // In threes, as a person reads a number aloud; the scanner page ignores the space.
  $("digits").textContent = code.digits ? `${code.digits.slice(0, 3)} ${code.digits.slice(3)}` : "";
  const left = Math.max(0, Math.round((new Date(code.validUntil) - Date.now()) / 1000));
  $("valid").textContent = t("validFor", left);
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    state.code = (await gql(STATION_CODE, { venue: state.venue })).stationCode;
    showError($("app-error"), null);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "UNAUTHENTICATED") return start();
    if (!error.retryable) {
      state.code = null;
      showError($("app-error"), error);
      renderCode();
      return undefined;
    }
    $("valid").textContent = t("offline");
  }
  renderCode();
  state.timer = setTimeout(refresh, REFRESH_MS);
  return undefined;
}

async function start() {
  $("loading").hidden = true;
  clearTimeout(state.timer);
  clearInterval(state.tick);
  const me = await whoAmI("id roles");
  const staff = me && me.roles.some((r) => ["organiser", "community_admin", "scanner", "platform_admin"].includes(r));
  if (!staff) {
    $("logout").hidden = !me;
    showView("login");
    return;
  }
  showView("app");
  $("logout").hidden = false;
  $("venue-form").hidden = Boolean(state.venue);
  if (state.venue) {
    state.tick = setInterval(renderCode, 1000);
    await refresh();
  }
}

langSwitch($("lang"));
onLangChange(renderCode);
$("logout").addEventListener("click", async () => { await logOut(); await start(); });
$("venue-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("venue", $("venue-input").value.trim());
  location.assign(url);
});
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
start().catch((error) => { $("loading").hidden = true; showView("app"); showError($("app-error"), error); });
