// The console's community card: the community's name, street and desk phone, and its 邻里驿家
// stations with their addresses. Its admins set the desk phone and add stations. Also: every
// community shown in a list of the console is shown by its name, never by its id.
import { addStrings, busy, el, gql, t } from "/static/common.js";

const STRINGS = {
  zh: {
    dirTitle: "社区信息", dirWhich: "查看社区", dirStreet: "所属街道", dirDesk: "社区电话",
    dirNoDesk: "未登记", dirStations: "邻里驿家", dirNoStations: "还没有登记驿站。",
    dirDeskNew: "社区电话（座机或手机）", dirSaveDesk: "保存电话", dirDeskSaved: "社区电话已保存。",
    dirStationName: "驿站名称", dirStationAddress: "驿站地址", dirStationPhone: "驿站电话（可不填）",
    dirAddStation: "添加驿站", dirStationAdded: (name) => `已添加驿站「${name}」。`,
    dirAdminsOnly: "社区电话和驿站由社区管理员登记。",
    dirPoster: "打印居民扫码海报", dirGrids: "网格与楼栋",
  },
  en: {
    dirTitle: "Community details", dirWhich: "Community", dirStreet: "Street", dirDesk: "Desk phone",
    dirNoDesk: "not recorded", dirStations: "邻里驿家 stations", dirNoStations: "No station recorded yet.",
    dirDeskNew: "Desk phone (landline or mobile)", dirSaveDesk: "Save phone", dirDeskSaved: "Desk phone saved.",
    dirStationName: "Station name", dirStationAddress: "Station address", dirStationPhone: "Station phone (optional)",
    dirAddStation: "Add station", dirStationAdded: (name) => `Station ${name} added.`,
    dirAdminsOnly: "The desk phone and stations are recorded by the community's admins.",
    dirPoster: "Print the poster residents scan", dirGrids: "Grids and buildings",
  },
};

const COMMUNITY = `query($id: String!) { community(id: $id) {
  id name streetName district deskPhone stations { id name address phone } grids { name buildings } } }`;
const SET_DESK = `mutation($c: String!, $p: String!) { updateCommunity(communityId: $c, deskPhone: $p) { id } }`;
const ADD_STATION = `mutation($c: String!, $n: String!, $a: String!, $p: String!) {
  addStation(communityId: $c, name: $n, address: $a, phone: $p) { id name } }`;
const ADMINS = ["community_admin", "platform_admin"];

/** Show each <option> under ``root`` whose value is a community id by that community's name. */
export function showCommunityNames(root, names) {
  const relabel = (node) => {
    const options = node.tagName === "OPTION" ? [node] : node.querySelectorAll("option");
    for (const option of options) {
      if (names.has(option.value) && option.textContent === option.value) option.textContent = names.get(option.value);
    }
  };
  relabel(root);
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) relabel(node);
  }).observe(root, { childList: true, subtree: true });
}

/** The card, built inside ``card`` (an empty section of the console); returns {start(me), render()}. */
export function communityCard(card, onError) {
  const state = { me: null, community: null, said: null };
  const field = (id, key, attrs = {}) => [el("label", { for: id, "data-i18n": key }), el("input", { id, ...attrs })];
  const which = el("select", { id: "dir-community" });
  const info = el("div", { id: "dir-info" });
  const desk = el("form", { id: "dir-desk-form" },
    ...field("dir-desk", "dirDeskNew", { type: "tel", maxlength: "20", required: true }),
    el("p", { class: "error", role: "alert", hidden: true }),
    el("button", { type: "submit", class: "secondary", "data-i18n": "dirSaveDesk" }));
  const station = el("form", { id: "dir-station-form" },
    ...field("dir-station-name", "dirStationName", { maxlength: "40", required: true }),
    ...field("dir-station-address", "dirStationAddress", { maxlength: "100", required: true }),
    ...field("dir-station-phone", "dirStationPhone", { type: "tel", maxlength: "20" }),
    el("p", { class: "error", role: "alert", hidden: true }),
    el("button", { type: "submit", class: "secondary", "data-i18n": "dirAddStation" }));
  const done = el("p", { class: "confirm", role: "status", hidden: true });
  const adminsOnly = el("p", { class: "note", "data-i18n": "dirAdminsOnly" });
  card.replaceChildren(
    el("h2", { "data-i18n": "dirTitle" }),
    el("div", { class: "dir-which" }, el("label", { for: "dir-community", "data-i18n": "dirWhich" }), which),
    info, done, desk, station, adminsOnly);

  function say(key, ...args) {
    state.said = key ? [key, ...args] : null;
    done.hidden = !key;
    done.textContent = key ? t(key, ...args) : "";
  }

  async function load() {
    const id = which.value;
    state.community = id ? (await gql(COMMUNITY, { id })).community : null;
    render();
  }

  function render() {
    for (const node of card.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    if (state.said) done.textContent = t(...state.said);
    const c = state.community;
    if (!c) {
      info.replaceChildren();
      return;
    }
    // replaceChildren, unlike el(), writes a null as the text "null": leave the missing parts out.
    info.replaceChildren(...[
      el("p", {}, el("strong", {}, c.name)),
      el("p", {}, `${t("dirStreet")}：${[c.district, c.streetName].filter(Boolean).join(" ") || "—"}`),
      el("p", {}, `${t("dirDesk")}：`, c.deskPhone ? el("a", { href: `tel:${c.deskPhone}` }, c.deskPhone) : t("dirNoDesk")),
      el("h3", {}, t("dirStations")),
      c.stations.length
        ? el("ul", { class: "plain" }, ...c.stations.map((s) => el("li", {},
            el("strong", {}, s.name), el("br"), s.address, s.phone ? ` · ${s.phone}` : "", el("br"),
            el("a", { href: `/poster?station=${encodeURIComponent(s.id)}`, target: "_blank" }, t("dirPoster")))))
        : el("p", { class: "note" }, t("dirNoStations")),
      c.grids.length ? el("h3", {}, t("dirGrids")) : null,
      c.grids.length
        ? el("ul", { class: "plain" }, ...c.grids.map((g) => el("li", {}, el("strong", {}, g.name), " ", g.buildings.join("、"))))
        : null,
    ].filter(Boolean));
    desk.querySelector("input").placeholder = c.deskPhone || "0951-4012345";
  }

  which.addEventListener("change", () => { say(null); load().catch(onError); });
  desk.addEventListener("submit", (event) => {
    event.preventDefault();
    say(null);
    busy(desk.querySelector("button"), desk.querySelector(".error"), async () => {
      await gql(SET_DESK, { c: which.value, p: desk.querySelector("input").value.trim() });
      desk.reset();
      say("dirDeskSaved");
      await load();
    });
  });
  station.addEventListener("submit", (event) => {
    event.preventDefault();
    say(null);
    const value = (id) => station.querySelector(`#${id}`).value.trim();
    busy(station.querySelector("button"), station.querySelector(".error"), async () => {
      const added = (await gql(ADD_STATION, {
        c: which.value, n: value("dir-station-name"), a: value("dir-station-address"), p: value("dir-station-phone"),
      })).addStation;
      station.reset();
      say("dirStationAdded", added.name);
      await load();
    });
  });

  return {
    start(me) {
      addStrings(STRINGS); // after the console's own strings, which replace any added before
      state.me = me;
      const names = new Map(me.communities.map((c, i) => [c, me.communityNames[i]]));
      which.replaceChildren(...me.communities.map((c) => el("option", { value: c }, names.get(c))));
      which.closest(".dir-which").hidden = me.communities.length < 2;
      const admin = me.roles.some((r) => ADMINS.includes(r));
      desk.hidden = !admin;
      station.hidden = !admin;
      adminsOnly.hidden = admin;
      card.hidden = !me.communities.length;
      load().catch(onError);
    },
    render,
  };
}
