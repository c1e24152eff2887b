// Two console cards for the community's volunteers: party members' own 双报到 registrations to
// review (approve, or decline with a reason they read), and claimants' requests that the
// community pass a message on to a resident whose number they do not see.
import { allPages, ApiError, el, fmtDateTime, gql, onLangChange, t, tIn } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    partyReviewTitle: "双报到审核",
    partyReviewNote: "在职党员自己登记的双报到，审核通过后才能以党员身份认领心愿。不通过时请写明原因，党员会看到。",
    noPartyToReview: "没有待审核的双报到登记。",
    partyFrom: (unit, branch) => `${unit} · ${branch}`, partyReported: (day) => `报到日期 ${day}`,
    partyApprove: "通过", partyDecline: "不通过", partyConfirmDecline: "确认不通过", partyKeep: "返回",
    partyDeclineReason: "不通过的原因（党员会看到）", partyNeedReason: "请填写不通过的原因（1到200个字）。",
    partyApproved: (name) => `已通过${name}的双报到登记。`, partyDeclined: (name) => `已告知${name}未通过的原因。`,
    callBacksTitle: "心愿回电请求",
    callBacksNote: "认领人看不到居民的完整电话。他们请社区转告时，请联系居民，转告后点「已转告」。",
    noCallBacks: "没有回电请求。",
    callBackWho: (who, org) => `认领人：${who}${org ? `（${org}）` : ""}`,
    callBackResident: (name, phone) => `居民：${name} · ${phone}`,
    callBackWhere: (building, unit) => `${building}${unit ? ` ${unit}` : ""}`,
    callBackNoteIs: (note) => `留言：${note}`, callBackPlanned: (when) => `计划上门：${when}`,
    callBackAskedAt: (when) => `${when} 请求`, callBackDoneAt: (when) => `${when} 已转告`,
    markCallBackDone: "已转告", aVolunteer: "一位志愿者", unknownResident: "（未登记电话）",
  },
  en: {
    partyReviewTitle: "Party member registrations (双报到)",
    partyReviewNote: "Party members who registered themselves claim wishes as party members only once approved. Give a reason when you decline: they read it.",
    noPartyToReview: "No registrations waiting.",
    partyFrom: (unit, branch) => `${unit} · ${branch}`, partyReported: (day) => `Reported on ${day}`,
    partyApprove: "Approve", partyDecline: "Decline", partyConfirmDecline: "Decline", partyKeep: "Back",
    partyDeclineReason: "Why not (they read it)", partyNeedReason: "Give the reason (1 to 200 characters).",
    partyApproved: (name) => `${name}'s registration is approved.`, partyDeclined: (name) => `${name} has been told why not.`,
    callBacksTitle: "Wish call-back requests",
    callBacksNote: "Claimants do not see residents' full numbers. When they ask, reach the resident and tick it off.",
    noCallBacks: "No call-back requests.",
    callBackWho: (who, org) => `Claimant: ${who}${org ? ` (${org})` : ""}`,
    callBackResident: (name, phone) => `Resident: ${name} · ${phone}`,
    callBackWhere: (building, unit) => `${building}${unit ? `, ${unit}` : ""}`,
    callBackNoteIs: (note) => `Message: ${note}`, callBackPlanned: (when) => `Planned visit: ${when}`,
    callBackAskedAt: (when) => `Asked ${when}`, callBackDoneAt: (when) => `Passed on ${when}`,
    markCallBackDone: "Passed on", aVolunteer: "A volunteer", unknownResident: "(no phone on record)",
  },
};

const TO_REVIEW = `query($c: String!, $limit: Int!, $after: ID) { partyMembersToReview(communityId: $c, limit: $limit, after: $after) {
  volunteerId name workUnit partyBranch reportedOn } }`;
const REVIEW = "mutation($input: ReviewPartyMemberInput!) { reviewPartyMember(input: $input) { volunteerId status } }";
const CALL_BACKS = `query($c: String!, $limit: Int!, $after: ID) { wishCallBacks(communityId: $c, limit: $limit, after: $after) {
  id category building unit residentName residentPhone claimantName organisation plannedVisitAt note requestedAt handledAt } }`;
const CALL_BACK_DONE = "mutation($id: ID!) { markWishCallBackDone(id: $id) { id handledAt } }";

function heading(title, refresh) {
  return el("div", { class: "row heading-row" }, el("h2", {}, t(title)),
    el("button", { type: "button", class: "quiet", onclick: refresh }, t("refresh")));
}

/** Wire both cards; ``onError`` shows a failed load. */
export function volunteerCards(partyBox, callBackBox, onError) {
  const state = {
    communities: [], reviews: false, pending: [], callBacks: [], declining: null, partyDone: null, started: false,
  };

  async function load() {
    const [pending, callBacks] = await Promise.all([
      Promise.all(state.reviews ? state.communities.map((c) => allPages(TO_REVIEW, { c }, (d) => d.partyMembersToReview, { key: "volunteerId" })) : []),
      Promise.all(state.communities.map((c) => allPages(CALL_BACKS, { c }, (d) => d.wishCallBacks))),
    ]);
    state.pending = pending.flat();
    state.callBacks = callBacks.flat();
    render();
  }
  const reload = () => load().catch(onError);

  function render() {
    if (!state.started) return;
    partyBox.hidden = !state.reviews;
    if (state.reviews) renderParty();
    renderCallBacks();
  }

  function renderParty() {
    const parts = [heading("partyReviewTitle", reload), el("p", { class: "note" }, t("partyReviewNote"))];
    if (state.partyDone) parts.push(el("p", { class: "confirm", role: "status" }, state.partyDone()));
    if (!state.pending.length) parts.push(el("p", { class: "note" }, t("noPartyToReview")));
    for (const member of state.pending) {
      parts.push(el("article", { class: "card wish party-member" },
        el("h3", {}, member.name),
        el("p", {}, t("partyFrom", member.workUnit, member.partyBranch)),
        el("p", { class: "muted" }, t("partyReported", member.reportedOn)),
        reviewPart(member)));
    }
    partyBox.replaceChildren(...parts);
  }

  function reviewPart(member) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const send = (button, input, done) => busyLabel(button, error, async () => {
      await gql(REVIEW, { input: { volunteerId: member.volunteerId, ...input() } });
      state.declining = null;
      state.partyDone = () => t(done, member.name);
      await load();
    });
    if (state.declining === member.volunteerId) {
      const reason = el("input", { maxlength: 200, "aria-label": t("partyDeclineReason"), placeholder: t("partyDeclineReason") });
      const confirm = el("button", { type: "button" }, t("partyConfirmDecline"));
      confirm.addEventListener("click", () => send(confirm, () => {
        if (!reason.value.trim()) {
          throw new ApiError("BAD_USER_INPUT", tIn("zh", "partyNeedReason"), tIn("en", "partyNeedReason"), false);
        }
        return { review: "DECLINE", reason: reason.value.trim() };
      }, "partyDeclined"));
      setTimeout(() => reason.focus(), 0);
      return el("div", { class: "choice" }, reason, error, el("div", { class: "actions" }, confirm,
        el("button", { type: "button", class: "quiet", onclick: () => { state.declining = null; renderParty(); } }, t("partyKeep"))));
    }
    const approve = el("button", { type: "button" }, t("partyApprove"));
    approve.addEventListener("click", () => send(approve, () => ({ review: "APPROVE" }), "partyApproved"));
    return el("div", {}, error, el("div", { class: "actions" }, approve,
      el("button", { type: "button", class: "quiet", onclick: () => { state.declining = member.volunteerId; state.partyDone = null; renderParty(); } },
        t("partyDecline"))));
  }

  function renderCallBacks() {
    // Shown while there are requests (open, or passed on this week).
    callBackBox.hidden = !state.callBacks.length;
    const parts = [heading("callBacksTitle", reload), el("p", { class: "note" }, t("callBacksNote"))];
    if (!state.callBacks.length) parts.push(el("p", { class: "note" }, t("noCallBacks")));
    for (const request of state.callBacks) {
      const error = el("p", { class: "error", role: "alert", hidden: true });
      const done = el("button", { type: "button" }, t("markCallBackDone"));
      done.addEventListener("click", () => busyLabel(done, error, async () => {
        await gql(CALL_BACK_DONE, { id: request.id });
        await load();
      }));
      parts.push(el("article", { class: "card wish call-back", dataset: { handled: String(Boolean(request.handledAt)) } },
        el("h3", {}, t(`cat${request.category}`), " ", el("span", { class: "muted" }, t("callBackWhere", request.building, request.unit))),
        el("p", {}, t("callBackResident", request.residentName ?? "", request.residentPhone ?? t("unknownResident"))),
        el("p", {}, t("callBackWho", request.claimantName ?? t("aVolunteer"), request.organisation)),
        request.note ? el("p", {}, t("callBackNoteIs", request.note)) : null,
        request.plannedVisitAt ? el("p", {}, t("callBackPlanned", fmtDateTime(request.plannedVisitAt))) : null,
        el("p", { class: "muted" }, request.handledAt
          ? t("callBackDoneAt", fmtDateTime(request.handledAt)) : t("callBackAskedAt", fmtDateTime(request.requestedAt))),
        request.handledAt ? null : el("div", {}, error, el("div", { class: "actions" }, done))));
    }
    callBackBox.replaceChildren(...parts);
  }

  onLangChange(render);
  return {
    /** ``reviews``: an organiser, who also reviews 双报到; grid workers see call-backs only. */
    start(communities, reviews) {
      if (!state.started) addModuleStrings(STRINGS);
      state.started = true;
      state.communities = communities;
      state.reviews = reviews;
      reload();
    },
  };
}
