// A 邻里驿家 station's poster, to print and hang up: residents scan its QR code, which opens the
// residents' page with the station's community filled in (community-picker.js).
import { ApiError, el, gql, langSwitch, onLangChange, showError, t, useStrings } from "/static/common.js";

useStrings({
  zh: {
    pageTitle: "邻里驿家 · 居民扫码海报", brand: "居民扫码海报", loading: "正在加载…", print: "打印海报",
    scanCall: "用手机扫一扫，选好您的社区，就能报名邻里节活动、许微心愿",
    desk: (phone) => `社区电话：${phone}`, noStation: "找不到这个驿站，请回到社区工作台重新打开海报。",
    qrAlt: (name) => `${name}的二维码`,
  },
  en: {
    pageTitle: "邻里驿家 · poster for residents", brand: "Poster for residents", loading: "Loading…", print: "Print poster",
    scanCall: "Scan with your phone, choose your community, then sign up for festival activities or make a wish",
    desk: (phone) => `Community desk: ${phone}`, noStation: "No such station: open the poster again from the console.",
    qrAlt: (name) => `QR code of ${name}`,
  },
});

const STATION = `query($id: ID!, $origin: String!) { station(id: $id) {
  name address communityId communityName posterQr(origin: $origin) } }`;
const COMMUNITY = "query($id: String!) { community(id: $id) { deskPhone } }";
const $ = (id) => document.getElementById(id);
let shown = null;

function render() {
  if (!shown) return;
  const { station, deskPhone } = shown;
  $("poster-community").textContent = station.communityName;
  $("poster-station").textContent = station.name;
  $("poster-address").textContent = station.address;
  $("poster-qr").src = station.posterQr;
  $("poster-qr").alt = t("qrAlt", station.name);
  $("poster-desk").replaceChildren(deskPhone ? el("span", {}, t("desk", deskPhone)) : "");
}

async function start() {
  const id = new URLSearchParams(location.search).get("station") ?? "";
  const station = id ? (await gql(STATION, { id, origin: location.origin })).station : null;
  $("loading").hidden = true;
  if (!station) {
    $("app-error").hidden = false;
    $("app-error").textContent = t("noStation");
    return;
  }
  const community = (await gql(COMMUNITY, { id: station.communityId })).community;
  shown = { station, deskPhone: community?.deskPhone ?? "" };
  render();
  $("poster").hidden = false;
  $("print").hidden = false;
}

langSwitch($("lang"));
onLangChange(render);
$("print").addEventListener("click", () => window.print());
start().catch((error) => {
  $("loading").hidden = true;
  if (!(error instanceof ApiError)) throw error;
  showError($("app-error"), error);
});
