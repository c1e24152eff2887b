// Choosing one's community by name: type a few characters of it (朔方), see the matching
// communities grouped by street, tap one. The page keeps the chosen community's id to itself;
// a person only ever types and reads names. A station's QR poster (/?station=<id> or
// /?community=<id>) fills in its community for a resident who has not said where she lives.
import { addStrings, el, gql, onLangChange, t } from "/static/common.js";

const STRINGS = {
  zh: {
    pickerHint: "输入社区名称中的一两个字，如「朔方」，再点选您的社区",
    pickerNone: "没有找到这个社区，请换几个字试试，或问社区工作人员",
    pickerChosen: (name, street) => `已选择：${name}${street ? `（${street}）` : ""}`,
    pickerFromPoster: (place) => `已按「${place}」的二维码填好社区，请核对后保存`,
    pickerSearching: "正在查找…",
    pickerMatches: "找到的社区",
    pickerFailed: "查找失败，请稍后再输入一次",
  },
  en: {
    pickerHint: "Type a character or two of your community's name (e.g. 朔方), then tap it",
    pickerNone: "No community found: try other characters, or ask the community staff",
    pickerChosen: (name, street) => `Chosen: ${name}${street ? ` (${street})` : ""}`,
    pickerFromPoster: (place) => `Filled in from the QR code of ${place}: check it, then save`,
    pickerSearching: "Searching…",
    pickerMatches: "Communities found",
    pickerFailed: "The search failed; type again in a moment",
  },
};

const DIRECTORY = `query($q: String!) { communityDirectory(search: $q) {
  streetId streetName district communities { id name shortName } } }`;
const STATION = "query($id: ID!) { station(id: $id) { name communityId communityName } }";
const COMMUNITY = "query($id: String!) { community(id: $id) { id name streetName } }";
const BUILDINGS = "query($id: String!) { community(id: $id) { grids { buildings } } }";
const WAIT_MS = 250;

const chosen = new WeakMap(); // input → { id, name, street }

/** The id of the community chosen in ``input``; else what was typed (an exact name is enough). */
export function chosenCommunity(input) {
  const choice = chosen.get(input);
  return choice && choice.name === input.value.trim() ? choice.id : input.value.trim();
}

function say(note, key, ...args) {
  note.said = [key, ...args];
  note.textContent = t(key, ...args);
}

function choose(input, choice, note, announce = true) {
  chosen.set(input, choice);
  input.value = choice.name;
  say(note, "pickerChosen", choice.name, choice.street);
  // The form hears of a choice as of typing (it must not overwrite it), but no search starts.
  if (announce) input.dispatchEvent(new CustomEvent("community-chosen", { bubbles: true, detail: choice }));
}

/** Offer the chosen community's buildings (楼栋, from its grids) as suggestions in ``building``. */
async function suggestBuildings(building, communityId) {
  const list = document.getElementById(`${building.id}-suggestions`) ?? el("datalist", { id: `${building.id}-suggestions` });
  if (!list.isConnected) building.after(list);
  building.setAttribute("list", list.id);
  const found = communityId ? (await gql(BUILDINGS, { id: communityId })).community : null;
  const buildings = [...new Set((found?.grids ?? []).flatMap((g) => g.buildings))];
  list.replaceChildren(...buildings.map((b) => el("option", { value: b })));
}

/**
 * Turn a text ``input`` into the picker, with its matches shown in a list right after it; the
 * ``building`` input, if given, is offered the chosen community's buildings.
 */
export function communityPicker(input, building = null) {
  addStrings(STRINGS); // after the page's own strings, which replace any added before
  const note = el("p", { class: "note", id: `${input.id}-note` });
  say(note, "pickerHint");
  const matches = el("div", { class: "picker-matches", role: "group", "aria-label": t("pickerMatches") });
  input.after(note, matches);
  onLangChange(() => { note.textContent = t(...note.said); });
  input.setAttribute("aria-describedby", note.id);
  let timer = null;
  let asked = 0;

  async function search() {
    const typed = input.value.trim();
    const ask = ++asked;
    if (!typed) {
      matches.replaceChildren();
      say(note, "pickerHint");
      return;
    }
    say(note, "pickerSearching");
    let groups;
    try {
      groups = (await gql(DIRECTORY, { q: typed })).communityDirectory;
    } catch {
      if (ask === asked) say(note, "pickerFailed");
      return;
    }
    if (ask !== asked) return; // a later search is under way
    say(note, groups.length ? "pickerHint" : "pickerNone");
    matches.replaceChildren(...groups.map((group) => {
      const street = [group.district, group.streetName].filter(Boolean).join(" ");
      return el("div", { class: "picker-street" },
        street ? el("h3", {}, street) : null,
        ...group.communities.map((c) => el("button", {
          type: "button", class: "quiet picker-choice",
          onclick: () => {
            choose(input, { id: c.id, name: c.name, street: group.streetName }, note);
            matches.replaceChildren();
          },
        }, c.name)));
    }));
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, WAIT_MS);
  });
  if (building) {
    input.addEventListener("community-chosen", (event) => suggestBuildings(building, event.detail.id).catch(() => {}));
  }
  return {
    /** Show the community a person already chose (from their profile). */
    show(id, name) {
      matches.replaceChildren();
      if (!id) return;
      choose(input, { id, name: name || "", street: "" }, note, false);
      if (building) suggestBuildings(building, id).catch(() => {});
      say(note, "pickerHint");
    },
    /** Fill in the community of the QR poster the page was opened from, if any; true if so. */
    async fromPoster() {
      const params = new URLSearchParams(location.search);
      const station = params.get("station");
      const community = params.get("community");
      let found = null;
      if (station) {
        const s = (await gql(STATION, { id: station })).station;
        if (s) found = { id: s.communityId, name: s.communityName, street: "", place: s.name };
      } else if (community) {
        const c = (await gql(COMMUNITY, { id: community })).community;
        if (c) found = { id: c.id, name: c.name, street: c.streetName, place: c.name };
      }
      if (!found) return false;
      choose(input, found, note);
      say(note, "pickerFromPoster", found.place);
      return true;
    },
  };
}
