// Residents without a smartphone, in the console's 代居民报名 card and beside it:
// - whose phone the desk was given (their own mobile or landline, a family member's, none);
// - the resident's sign-ups, which the grid worker may cancel, or take one person off, when
//   they were made at the desk;
// - the "要告知的居民" list: what residents without a mobile of their own must be told by a
//   call or a visit, ticked off once told.
// The API shows masked names (the number to ring in full, on the list only); so do these.
import { addStrings, allPages, busy, el, fmtDateTime, fmtTime, gql, keyed, lang, t } from "/static/common.js";

const PHONE_OF = ["SELF", "FAMILY", "NONE"];

const STRINGS = {
  zh: {
    phoneOfSELF: "居民本人的电话", phoneOfFAMILY: "家人的电话", phoneOfNONE: "没有电话",
    proxyPhoneOf: "电话是谁的", proxyPhoneOwner: "是谁的电话（例如：女儿）",
    proxyNoSms: (created, name, building, contact) => `${created ? "新登记居民" : "已找到居民"}：${name}（${building}，${contact}）。不发短信：报名结果会列入“要告知的居民”，请电话或上门告知。`,
    proxySignupsTitle: "已报名的活动", proxyNoSignups: "还没有报名任何活动。",
    signupCONFIRMED: "已确认", signupWAITLISTED: (n) => `候补第${n}位`, signupCANCELLED: "已取消",
    proxyParty: (n, names) => `共 ${n} 人：${names}`, proxySelfMark: (name) => `${name}（本人）`,
    proxyCancelAll: "取消报名", proxyConfirmCancel: "确认取消整个报名？",
    proxyCancelOne: (name) => `只取消 ${name}`, proxyConfirmCancelOne: (name) => `确认取消 ${name}？`,
    proxyCancelled: "已取消报名，名额已让给候补的居民。",
    proxyCut: (dropped, kept, n) => `已为${dropped}取消，${kept}的报名保留，共 ${n} 人。原票券仍可使用。`,
    proxyByResident: "这份报名是居民本人在手机上提交的，请由居民本人取消或修改。",
    listSep: "、",
    toTellTitle: "要告知的居民",
    toTellNote: "这些居民没有自己的手机，不会收到短信。请打电话或上门，把下面的话告诉他们；告知后点“我已告知”。",
    toTellEmpty: "目前没有需要告知的事。", toTellRefresh: "刷新",
    toTellWho: (name, building, unit) => `${name} · ${building} ${unit}`,
    toTellContact: (c) => `联系方式：${c}`, toTellSay: "请告诉居民：",
    toTellDone: "我已告知", toTellToldBy: (who, when) => `已告知 · ${who} · ${when}`,
    toTellDoneTitle: "最近已告知",
  },
  en: {
    phoneOfSELF: "The resident's own mobile or landline", phoneOfFAMILY: "A family member's phone", phoneOfNONE: "No phone",
    proxyPhoneOf: "Whose phone is it?", proxyPhoneOwner: "Whose phone (e.g. daughter)",
    proxyNoSms: (created, name, building, contact) => `${created ? "Newly registered" : "Found"}: ${name} (${building}, ${contact}). No text messages: news of their sign-ups goes on "Residents to tell"; tell them by phone or in person.`,
    proxySignupsTitle: "Their sign-ups", proxyNoSignups: "No sign-ups yet.",
    signupCONFIRMED: "Confirmed", signupWAITLISTED: (n) => `#${n} on the waitlist`, signupCANCELLED: "Cancelled",
    proxyParty: (n, names) => `${n} ${n === 1 ? "person" : "people"}: ${names}`, proxySelfMark: (name) => `${name} (the resident)`,
    proxyCancelAll: "Cancel sign-up", proxyConfirmCancel: "Really cancel the whole sign-up?",
    proxyCancelOne: (name) => `Cancel only ${name}`, proxyConfirmCancelOne: (name) => `Really cancel ${name}?`,
    proxyCancelled: "Cancelled; the places went to residents on the waitlist.",
    proxyCut: (dropped, kept, n) => `Cancelled for ${dropped}; ${kept} still going, ${n} in all. The same ticket still works.`,
    proxyByResident: "The resident made this sign-up on their own phone; only they can cancel or change it.",
    listSep: ", ",
    toTellTitle: "Residents to tell",
    toTellNote: "These residents have no mobile of their own and get no text messages. Call or visit them, tell them what is below, then press “I have told them”.",
    toTellEmpty: "Nothing to pass on at the moment.", toTellRefresh: "Refresh",
    toTellWho: (name, building, unit) => `${name} · ${building} ${unit}`,
    toTellContact: (c) => `Contact: ${c}`, toTellSay: "Tell them:",
    toTellDone: "I have told them", toTellToldBy: (who, when) => `Told · ${who} · ${when}`,
    toTellDoneTitle: "Told recently",
  },
};

const SIGNUPS_FOR = `query($r: ID!, $limit: Int!, $after: ID) { signupsFor(residentId: $r, limit: $limit, after: $after) {
  id status partySize waitlistPosition activityTitle venue startsAt endsAt sessionCancelled madeByProxy
  members { id name me } } }`;
const CANCEL_FOR = "mutation($input: CancelSignupForInput!) { cancelSignupFor(input: $input) { id status } }";
const CUT_FOR = `mutation($input: CancelPartyMembersInput!) {
  cancelPartyMembersFor(input: $input) { id status partySize } }`;
const TO_TELL = `query($limit: Int!, $after: ID) { toTell(includeTold: true, limit: $limit, after: $after) {
  id kind title say titleEn sayEn createdAt resident building unit contact contactEn told toldAt toldBy } }`;
const MARK_TOLD = "mutation($id: ID!) { markTold(id: $id) { id told toldAt toldBy } }";
const TOLD_SHOWN = 10;
const POLL_MS = 20_000;

/** The find form's "whose phone" choice: the phone field is hidden with none, whose is asked for a family member's. */
export function contactFields(form) {
  addStrings(STRINGS);
  const $ = (id) => form.querySelector(`#${id}`);
  const whose = $("proxy-phone-of");
  function toggle() {
    const none = whose.value === "NONE";
    $("proxy-phone").closest("div").hidden = none;
    $("proxy-phone").required = !none;
    $("proxy-owner-box").hidden = whose.value !== "FAMILY";
    $("proxy-phone-owner").required = whose.value === "FAMILY";
  }
  whose.addEventListener("change", toggle);
  return {
    render() {
      const previous = whose.value || "SELF";
      whose.replaceChildren(...PHONE_OF.map((v) => el("option", { value: v }, t(`phoneOf${v}`))));
      whose.value = previous;
      toggle();
    },
    values() {
      const phoneOf = whose.value || "SELF";
      return {
        phoneOf,
        phone: phoneOf === "NONE" ? "" : $("proxy-phone").value.trim(),
        phoneOwner: phoneOf === "FAMILY" ? $("proxy-phone-owner").value.trim() : "",
      };
    },
  };
}

/** What the card says of a resident found or registered who gets no text messages, and how to reach them. */
export function noSmsNote(r) {
  return t("proxyNoSms", r.created, r.name, r.building, lang() === "en" ? r.contactEn : r.contact);
}

/**
 * A resident's sign-ups in the card (``box``): cancel, or take one person off, what the desk made.
 * ``changed(signupId)`` hears of each change, so the card can drop what it shows of it.
 */
export function residentSignups(box, changed = () => {}) {
  addStrings(STRINGS);
  const state = { resident: null, signups: [], armed: null, notice: new Map() };

  async function show(resident) {
    if (state.resident?.id !== resident?.id) {
      state.armed = null;
      state.notice.clear();
    }
    state.resident = resident;
    state.signups = resident ? await allPages(SIGNUPS_FOR, { r: resident.id }, (d) => d.signupsFor) : [];
    render();
  }

  function names(members) {
    return members.map((m) => (m.me ? t("proxySelfMark", m.name) : m.name)).join(t("listSep"));
  }

  /** A button that asks once more before it acts (a mis-tap must not cancel anything). */
  function twoTap(id, label, armedLabel, error, action, quiet = true) {
    const armed = state.armed === id;
    const button = el("button", { type: "button", class: quiet ? "quiet" : "secondary" }, armed ? armedLabel : label);
    button.addEventListener("click", () => {
      if (state.armed !== id) {
        state.armed = id;
        render();
        return;
      }
      busy(button, error, async () => {
        await action();
        state.armed = null;
        changed(id.split(":")[0]);
        await show(state.resident);
      });
    });
    return button;
  }

  function card(s) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const status = s.status === "WAITLISTED" ? t("signupWAITLISTED", s.waitlistPosition) : t(`signup${s.status}`);
    const badge = { CONFIRMED: "ok", WAITLISTED: "wait" }[s.status] ?? "off";
    const article = el("article", { class: "signup", dataset: { signup: s.id, status: s.status } },
      el("h4", {}, s.activityTitle),
      el("p", {}, `${fmtDateTime(s.startsAt)}–${fmtTime(s.endsAt)} · ${s.venue}`),
      el("p", {}, el("span", { class: `badge ${badge}` }, status), " ",
        el("span", { class: "muted" }, t("proxyParty", s.partySize, names(s.members)))));
    const said = state.notice.get(s.id);
    if (said) article.append(el("p", { class: "confirm", role: "status" }, said()));
    const live = s.status === "CONFIRMED" || s.status === "WAITLISTED";
    if (!live) return article;
    if (!s.madeByProxy) {
      article.append(el("p", { class: "note" }, t("proxyByResident")));
      return article;
    }
    const actions = el("div", { class: "row" });
    if (s.members.length > 1) {
      for (const m of s.members) {
        const label = m.me ? t("proxySelfMark", m.name) : m.name;
        actions.append(twoTap(`${s.id}:${m.id ?? "me"}`, t("proxyCancelOne", label), t("proxyConfirmCancelOne", label), error,
          async () => {
            const input = m.me ? { me: true } : { attendeeIds: [m.id] };
            const after = await keyed(`proxy-cut:${s.id}:${m.id ?? "me"}`, (key) =>
              gql(CUT_FOR, { input: { signupId: s.id, idempotencyKey: key, ...input } }));
            const kept = s.members.filter((x) => x !== m);
            const n = after.cancelPartyMembersFor.partySize;
            state.notice.set(s.id, () => t("proxyCut", label, names(kept), n));
          }));
      }
    }
    actions.append(twoTap(`${s.id}:all`, t("proxyCancelAll"), t("proxyConfirmCancel"), error, async () => {
      await keyed(`proxy-cancel:${s.id}`, (key) => gql(CANCEL_FOR, { input: { signupId: s.id, idempotencyKey: key } }));
      state.notice.set(s.id, () => t("proxyCancelled"));
    }, false));
    article.append(error, actions);
    return article;
  }

  function render() {
    if (!state.resident) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(el("h3", {}, t("proxySignupsTitle")),
      ...(state.signups.length ? state.signups.map(card) : [el("p", { class: "note" }, t("proxyNoSignups"))]));
  }

  return { show, render, refresh: () => show(state.resident) };
}

/** "Contact: landline 0951-1234567", the number a link a grid worker's phone can ring. */
function contactLine(words) {
  const found = /^(.*?)([0-9][0-9-]{6,})$/.exec(words);
  if (!found) return t("toTellContact", words);
  const [, before, number] = found;
  return el("span", {}, t("toTellContact", before),
    el("a", { href: `tel:${number.replaceAll("-", "")}`, class: "tel" }, number));
}

/** The "要告知的居民" card (``section``): open entries first, then the last few ticked off. */
export function toTellList(section) {
  addStrings(STRINGS);
  const list = section.querySelector("#to-tell-list");
  const error = section.querySelector(".error");
  const state = { entries: [], timer: null, loaded: false };

  async function load() {
    state.entries = await allPages(TO_TELL, {}, (d) => d.toTell);
    state.loaded = true;
    render();
  }

  function entry(e) {
    const en = lang() === "en";
    const article = el("article", { class: e.told ? "card to-tell told" : "card to-tell", dataset: { entry: e.id, kind: e.kind } },
      el("h3", {}, en ? e.titleEn : e.title),
      el("p", {}, el("strong", {}, t("toTellWho", e.resident, e.building, e.unit))),
      el("p", {}, contactLine(en ? e.contactEn : e.contact)),
      el("p", {}, el("span", { class: "muted" }, t("toTellSay")), " ", en ? e.sayEn : e.say));
    if (e.told) {
      article.append(el("p", { class: "note", role: "status" }, t("toTellToldBy", e.toldBy ?? "", fmtDateTime(e.toldAt))));
      return article;
    }
    const problem = el("p", { class: "error", role: "alert", hidden: true });
    const button = el("button", { type: "button", class: "wide" }, t("toTellDone"));
    button.addEventListener("click", () => busy(button, problem, async () => {
      const told = (await gql(MARK_TOLD, { id: e.id })).markTold;
      Object.assign(e, told);
      render();
    }));
    article.append(problem, button);
    return article;
  }

  function render() {
    if (!state.loaded) return;
    const open = state.entries.filter((e) => !e.told);
    const told = state.entries.filter((e) => e.told).slice(0, TOLD_SHOWN);
    list.replaceChildren(
      ...(open.length ? open.map(entry) : [el("p", { class: "note" }, t("toTellEmpty"))]),
      ...(told.length ? [el("h3", {}, t("toTellDoneTitle")), ...told.map(entry)] : []));
    section.querySelector("h2").textContent = open.length ? `${t("toTellTitle")}（${open.length}）` : t("toTellTitle");
  }

  const refresh = section.querySelector("#to-tell-refresh");
  refresh.addEventListener("click", () => busy(refresh, error, load));

  return {
    async start() {
      clearInterval(state.timer);
      await busy(refresh, error, load);
      state.timer = setInterval(() => { if (!section.hidden && !document.hidden) load().catch(() => {}); }, POLL_MS);
    },
    render,
    refresh: () => busy(refresh, error, load),
  };
}
