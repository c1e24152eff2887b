// A claimed wish on the claimant's page: where to go, how to reach the resident without her number
// (a masked number, or asking the community to pass a message on), when they plan to come, and
// giving the wish back with a reason when they cannot do it after all.
import { ApiError, beijingInput, el, fmtDateTime, gql, keyed, onLangChange, t, tIn } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    contactTitle: "怎样联系居民",
    address: (building, unit) => `地址：${building}${unit ? ` ${unit}` : ""}`,
    residentIs: (name) => `居民：${name}`,
    maskedPhone: (phone) => `电话：${phone}（为保护居民隐私，不显示完整号码）`,
    viaGrid: "这个心愿是网格员代居民发布的，可以请社区转告。",
    deskPhone: (community) => `可联系${community}服务台：`, deskHint: "（社区工作人员可帮您联系居民）",
    askCallBack: "请社区转告/回电", callBackNote: "想请社区转告的话（可不填）",
    callBackPlaceholder: "例如：周六上午上门，请提前在家",
    callBackAsked: (when) => `已请社区转告（${when}），社区工作人员会联系居民。`,
    callBackDone: (when) => `社区已转告居民（${when}）。`,
    sendCallBack: "发送请求",
    plannedAt: (when) => `计划上门：${when}`, noPlan: "还没有约定上门时间。",
    planLabel: "计划上门时间（居民会看到）", savePlan: "保存上门时间", planSaved: "上门时间已保存，居民会收到通知。",
    planNeeded: "请选择上门时间。",
    giveBack: "退回心愿", giveBackReason: "退回原因（居民会看到）", giveBackPlaceholder: "例如：临时出差，这周去不了",
    confirmGiveBack: "确认退回", keepIt: "不退回",
    givenBack: "心愿已退回心愿墙，居民会收到通知。谢谢您告知！", reasonNeeded: "请写下退回原因（1到200个字）。",
    plannedVisit: "计划上门时间（可不填，居民会看到）",
  },
  en: {
    contactTitle: "How to reach the resident",
    address: (building, unit) => `Address: ${building}${unit ? `, ${unit}` : ""}`,
    residentIs: (name) => `Resident: ${name}`,
    maskedPhone: (phone) => `Phone: ${phone} (hidden in part to protect her privacy)`,
    viaGrid: "A grid worker posted this wish for the resident: the community can pass a message on.",
    deskPhone: (community) => `Call the ${community} service desk: `, deskHint: " (the staff can put you in touch with her)",
    askCallBack: "Ask the community to pass a message on", callBackNote: "What to pass on (optional)",
    callBackPlaceholder: "e.g. I will come on Saturday morning",
    callBackAsked: (when) => `Asked the community (${when}); their staff will contact the resident.`,
    callBackDone: (when) => `The community passed it on (${when}).`,
    sendCallBack: "Send the request",
    plannedAt: (when) => `Planned visit: ${when}`, noPlan: "No visit time yet.",
    planLabel: "When I plan to come (the resident sees it)", savePlan: "Save the time", planSaved: "Visit time saved; the resident is told.",
    planNeeded: "Choose a time for the visit.",
    giveBack: "Give it back", giveBackReason: "Why (the resident sees it)", giveBackPlaceholder: "e.g. Away on business this week",
    confirmGiveBack: "Give it back", keepIt: "Keep it",
    givenBack: "The wish is back on the wall and the resident is told. Thank you for letting us know!",
    reasonNeeded: "Write why (1 to 200 characters).",
    plannedVisit: "When I plan to come (optional; the resident sees it)",
  },
};

export const CONTACT_FIELDS = `claimant { plannedVisitAt }
  contact { building unit residentName residentPhoneMasked postedByGridWorker callBackRequestedAt callBackHandledAt
    communityName deskPhone }`;
const PLAN = "mutation($input: PlanWishVisitInput!) { planWishVisit(input: $input) { id } }";
const CALL_BACK = "mutation($input: RequestWishCallBackInput!) { requestWishCallBack(input: $input) { id } }";
const GIVE_BACK = "mutation($input: GiveBackWishInput!) { giveBackWish(input: $input) { id status } }";

let started = false;

/** Call once the page has set its strings; ``rerender`` redraws on a language switch. */
export function startWishContact(rerender) {
  if (started) return;
  started = true;
  addModuleStrings(STRINGS);
  onLangChange(rerender);
}

function nowInput() {
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).format(new Date()).replace(" ", "T");
}

/** The optional visit time in the claim form: ``value()`` is an ISO time or null. */
export function plannedVisitField(id) {
  const input = el("input", { id, type: "datetime-local", min: nowInput() });
  return {
    node: el("div", {}, el("label", { for: id }, t("plannedVisit")), input),
    value: () => (input.value ? beijingInput(input.value) : null),
  };
}

/** The contact, visit and give-back parts of a wish the person holds. */
export function claimExtras(wish, { reload, say }) {
  const open = { callBack: false, giveBack: false };
  const box = el("div", {});

  function draw() {
    // Not box.replaceChildren(…, null): that would write "null" on the card of a wish already done.
    const claimed = wish.status === "CLAIMED";
    box.replaceChildren(...[contactPart(), claimed ? planPart() : null, claimed ? giveBackPart() : null].filter(Boolean));
  }

  function contactPart() {
    const c = wish.contact;
    if (!c) return null;
    const lines = [el("h4", {}, t("contactTitle")), el("p", {}, t("address", c.building, c.unit))];
    if (c.residentName) lines.push(el("p", {}, t("residentIs", c.residentName)));
    if (c.residentPhoneMasked) lines.push(el("p", {}, t("maskedPhone", c.residentPhoneMasked)));
    if (c.deskPhone) {
      lines.push(el("p", { class: "desk-phone" }, t("deskPhone", c.communityName),
        el("a", { href: `tel:${c.deskPhone.replaceAll("-", "")}`, class: "tel" }, c.deskPhone), t("deskHint")));
    }
    if (c.postedByGridWorker) lines.push(el("p", { class: "note" }, t("viaGrid")));
    if (c.callBackHandledAt) {
      lines.push(el("p", { class: "confirm" }, t("callBackDone", fmtDateTime(c.callBackHandledAt))));
    } else if (c.callBackRequestedAt) {
      lines.push(el("p", { class: "confirm" }, t("callBackAsked", fmtDateTime(c.callBackRequestedAt))));
    } else if (open.callBack) {
      const noteId = `call-back-${wish.id}`;
      const note = el("textarea", { id: noteId, rows: 2, maxlength: 200, placeholder: t("callBackPlaceholder") });
      const error = el("p", { class: "error", role: "alert", hidden: true });
      const send = el("button", { type: "button" }, t("sendCallBack"));
      send.addEventListener("click", () => busyLabel(send, error, async () => {
        await gql(CALL_BACK, { input: { wishId: wish.id, note: note.value.trim() || null } });
        await reload();
      }));
      lines.push(el("label", { for: noteId }, t("callBackNote")), note, error, el("div", { class: "actions" }, send,
        el("button", { type: "button", class: "quiet", onclick: () => { open.callBack = false; draw(); } }, t("keepIt"))));
    } else {
      lines.push(el("div", { class: "actions" }, el("button", {
        type: "button", class: "secondary", onclick: () => { open.callBack = true; draw(); },
      }, t("askCallBack"))));
    }
    return el("div", { class: "choice contact" }, ...lines);
  }

  function planPart() {
    const planned = wish.claimant?.plannedVisitAt;
    const id = `plan-${wish.id}`;
    const input = el("input", { id, type: "datetime-local", min: nowInput() });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const save = el("button", { type: "button", class: "secondary" }, t("savePlan"));
    save.addEventListener("click", () => busyLabel(save, error, async () => {
      if (!input.value) throw new ApiError("BAD_USER_INPUT", tIn("zh", "planNeeded"), tIn("en", "planNeeded"), false);
      await gql(PLAN, { input: { wishId: wish.id, plannedVisitAt: beijingInput(input.value) } });
      say(() => t("planSaved"));
      await reload();
    }));
    return el("div", { class: "choice" },
      el("p", {}, planned ? t("plannedAt", fmtDateTime(planned)) : t("noPlan")),
      el("label", { for: id }, t("planLabel")), input, error, el("div", { class: "actions" }, save));
  }

  function giveBackPart() {
    if (!open.giveBack) {
      return el("div", { class: "actions" }, el("button", {
        type: "button", class: "quiet", onclick: () => { open.giveBack = true; draw(); },
      }, t("giveBack")));
    }
    const id = `give-back-${wish.id}`;
    const reason = el("input", { id, maxlength: 200, placeholder: t("giveBackPlaceholder") });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const confirm = el("button", { type: "button" }, t("confirmGiveBack"));
    confirm.addEventListener("click", () => busyLabel(confirm, error, async () => {
      const text = reason.value.trim();
      if (!text) throw new ApiError("BAD_USER_INPUT", tIn("zh", "reasonNeeded"), tIn("en", "reasonNeeded"), false);
      // One key per wish: a lost answer is retried as the same giving back (one message to her).
      await keyed(`give-back:${wish.id}`, (key) =>
        gql(GIVE_BACK, { input: { wishId: wish.id, reason: text, idempotencyKey: key } }));
      say(() => t("givenBack"));
      await reload();
    }));
    setTimeout(() => reason.focus(), 0);
    return el("div", { class: "choice" }, el("label", { for: id }, t("giveBackReason")), reason, error,
      el("div", { class: "actions" }, confirm,
        el("button", { type: "button", class: "quiet", onclick: () => { open.giveBack = false; draw(); } }, t("keepIt"))));
  }

  draw();
  return box;
}
