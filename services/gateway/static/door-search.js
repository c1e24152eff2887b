// At the door without a readable QR (a crumpled ticket, a forgotten phone): find a confirmed
// attendee of the chosen session by name, by the last 4 digits of the phone or by the ticket's
// 6-digit number, see who the ticket admits and let the whole party or part of it in.
import { busy, el, fmtTime, gql, keyed, lang, onLangChange, showError } from "/static/common.js";

const STRINGS = {
  zh: {
    findTitle: "二维码扫不出？按姓名或手机尾号查找",
    findLabel: "姓名、手机号后 4 位或票号（6 位数字）", find: "查找",
    foundNone: "本场次没有找到这位居民的报名（只列出已确认的报名）。",
    partyOf: (n, names) => `共 ${n} 人${names.length ? `：${names.join("、")}` : ""}`,
    partyIn: (a, left) => (!left ? "全部已入场" : a ? `已入场 ${a} 人，还有 ${left} 人未入场` : "还未入场"),
    howMany: "本次入场人数", admitPeople: (n) => `确认入场（${n}人）`,
    admittedPart: (who, n, a, size, time) => `${time} 已入场：${who} ${n} 人（共 ${size} 人，已入场 ${a} 人）`,
  },
  en: {
    findTitle: "QR will not scan? Find by name or phone",
    findLabel: "Name, the phone's last 4 digits or the ticket number (6 digits)", find: "Find",
    foundNone: "No confirmed sign-up of this session matches.",
    partyOf: (n, names) => `${n} ${n === 1 ? "person" : "people"}${names.length ? `: ${names.join(", ")}` : ""}`,
    partyIn: (a, left) => (!left ? "Everyone is in" : a ? `${a} in, ${left} still to come` : "Not in yet"),
    howMany: "People coming in now", admitPeople: (n) => `Admit (${n})`,
    admittedPart: (who, n, a, size, time) => `${time} admitted: ${who}, ${n} (${a} of ${size} in)`,
  },
};

/** This module's words in the page's language (kept apart from the page's own strings). */
function t(key, ...args) {
  const found = STRINGS[lang()][key] ?? STRINGS.zh[key];
  return typeof found === "function" ? found(...args) : found;
}

const FIND = `query($s: ID!, $q: String!) {
  doorAttendees(sessionId: $s, search: $q) { signupId resident phone partySize partyNames admitted stillToCome } }`;
const ADMIT = `mutation($input: AdmitAttendeeInput!) {
  admitAttendee(input: $input) { signupId partySize people admitted checkedInAt } }`;

/**
 * The search card inside ``root``; ``sessionId()`` is the session chosen at the door, ``log(line)``
 * adds a line to the door's "just through the door" list.
 */
export function doorSearch(root, sessionId, log) {
  const state = { found: null, search: "" };
  const input = el("input", { id: "door-search", autocomplete: "off", inputmode: "search", maxlength: "40" });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit" }, t("find"));
  const results = el("div", { id: "door-found" });
  const title = el("h2", {}, t("findTitle"));
  const label = el("label", { for: "door-search" }, t("findLabel"));
  const form = el("form", { class: "card", id: "door-find-form" }, title, label,
    el("div", { class: "row" }, input, submit), error, results);
  root.replaceChildren(form);

  async function find() {
    state.search = input.value.trim();
    state.found = (await gql(FIND, { s: sessionId(), q: state.search })).doorAttendees;
    render();
  }

  function render() {
    title.textContent = t("findTitle");
    label.textContent = t("findLabel");
    submit.textContent = t("find");
    if (state.found === null) { results.replaceChildren(); return; }
    results.replaceChildren(...(state.found.length
      ? state.found.map(attendeeCard)
      : [el("p", { class: "note" }, t("foundNone"))]));
  }

  function attendeeCard(found) {
    const cardError = el("p", { class: "error", role: "alert", hidden: true });
    const parts = [
      el("h3", {}, found.resident),
      el("p", {}, [found.phone, t("partyOf", found.partySize, found.partyNames)].filter(Boolean).join(" · ")),
      el("p", { class: found.stillToCome ? "note" : "confirm" }, t("partyIn", found.admitted, found.stillToCome)),
    ];
    if (found.stillToCome) {
      const id = `door-people-${found.signupId}`;
      const people = el("select", { id },
        ...Array.from({ length: found.stillToCome }, (_, i) => found.stillToCome - i)
          .map((n) => el("option", { value: String(n) }, String(n))));
      const admit = el("button", { type: "button", class: "wide" }, t("admitPeople", found.stillToCome));
      people.addEventListener("change", () => { admit.textContent = t("admitPeople", Number(people.value)); });
      admit.addEventListener("click", () => busy(admit, cardError, async () => {
        const count = Number(people.value);
        const data = await keyed(`door-admit:${found.signupId}:${found.admitted}:${count}`, (key) =>
          gql(ADMIT, { input: { sessionId: sessionId(), signupId: found.signupId, people: count, idempotencyKey: key } }));
        const entry = data.admitAttendee;
        log(t("admittedPart", found.resident, entry.people, entry.admitted, entry.partySize, fmtTime(entry.checkedInAt)));
        await find();
      }));
      parts.push(el("label", { for: id }, t("howMany")), people, cardError, admit);
    }
    return el("article", { class: "card door-attendee", dataset: { signup: found.signupId } }, ...parts);
  }

  input.addEventListener("input", () => showError(error, null));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, find);
  });
  onLangChange(render);
  return { clear() { state.found = null; input.value = ""; render(); } };
}
