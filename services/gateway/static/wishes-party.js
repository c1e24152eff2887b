// 双报到 on the volunteers' wish wall: an in-service party member registers with the community
// they live in or serve (work unit, party branch), sees the community's review in words
// (待审核 / 已通过 / 未通过 with the reason) and corrects a declined registration.
import { ApiError, el, gql, onLangChange, t, tIn } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    partyTitle: "双报到（在职党员）",
    partyIntro: "在职党员向居住或服务的社区报到。社区审核通过后，您就可以以在职党员身份认领心愿，服务计入您的工作单位。",
    partyNone: "您还没有登记双报到。",
    partyRegister: "登记双报到", partyEdit: "修改登记", partyCancel: "返回",
    partyPENDING: "待社区审核", partyAPPROVED: "已通过", partyDECLINED: "未通过",
    partyPendingNote: "社区工作人员审核后会通知您；着急的话请联系社区工作人员。",
    partyApprovedNote: "您可以以在职党员身份认领心愿了。",
    partyDeclinedBecause: (reason) => `未通过的原因：${reason}。请修改后重新登记，或联系社区工作人员。`,
    partyName: "姓名", partyUnit: "工作单位", partyBranch: "所在党支部", partyCommunity: "报到社区",
    partyReportedOn: "报到日期", partySubmit: "提交登记",
    partySent: "已提交，等待社区审核。",
    partyDetails: (unit, branch) => `${unit} · ${branch}`, partyCommunityIs: (name) => `报到社区：${name}`,
    partyMissing: "请填写姓名、工作单位和所在党支部。",
    partyRecheck: "修改后需要社区重新审核，审核通过前不能以党员身份认领。",
  },
  en: {
    partyTitle: "Party member registration (双报到)",
    partyIntro: "In-service party members register with the community where they live or serve. Once the community approves, you can take up wishes as a party member, counted for your work unit.",
    partyNone: "You have not registered yet.",
    partyRegister: "Register", partyEdit: "Change my registration", partyCancel: "Back",
    partyPENDING: "Waiting for the community", partyAPPROVED: "Approved", partyDECLINED: "Not accepted",
    partyPendingNote: "The community's staff will tell you once they have looked at it; if it is urgent, ask them.",
    partyApprovedNote: "You can take up wishes as a party member now.",
    partyDeclinedBecause: (reason) => `Why not: ${reason}. Correct it and register again, or ask the community's staff.`,
    partyName: "Name", partyUnit: "Work unit", partyBranch: "Party branch", partyCommunity: "Community",
    partyReportedOn: "Date reported", partySubmit: "Send my registration",
    partySent: "Sent: waiting for the community's review.",
    partyDetails: (unit, branch) => `${unit} · ${branch}`, partyCommunityIs: (name) => `Reported to ${name}`,
    partyMissing: "Fill in your name, work unit and party branch.",
    partyRecheck: "A change goes back to the community for review; until approved you cannot claim as a party member.",
  },
};

const MINE = `{ myVolunteerProfile { partyMember {
  name workUnit partyBranch communityId communityName reportedOn status declineReason } } }`;
const REGISTER = `mutation($input: RegisterPartyMemberInput!) { registerPartyMember(input: $input) {
  name workUnit partyBranch communityId communityName reportedOn status declineReason } }`;
const BADGE = { PENDING: "wait", APPROVED: "ok", DECLINED: "off" };

/** Today in Beijing, as a date input wants it. */
function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

/** Wire the card to ``box``; ``onError`` shows a failed load. */
export function partyRegistration(box, onError) {
  const state = { member: undefined, editing: false, communities: [], names: new Map(), notice: null, draft: null };

  async function load() {
    state.member = (await gql(MINE)).myVolunteerProfile.partyMember;
    render();
  }

  function render() {
    if (state.member === undefined) return;
    const member = state.member;
    const parts = [el("h2", {}, t("partyTitle"))];
    if (state.notice) parts.push(el("p", { class: "confirm", role: "status" }, t(state.notice)));
    if (!member) {
      parts.push(el("p", { class: "note" }, t("partyIntro")), el("p", {}, t("partyNone")));
    } else {
      parts.push(
        el("p", {}, el("span", { class: `badge ${BADGE[member.status]}`, dataset: { status: member.status } }, t(`party${member.status}`)),
          " ", member.name),
        el("p", { class: "muted" }, t("partyDetails", member.workUnit, member.partyBranch)),
        el("p", { class: "muted" }, t("partyCommunityIs", member.communityName)),
        el("p", { class: "note" }, member.status === "DECLINED"
          ? t("partyDeclinedBecause", member.declineReason ?? "")
          : t(member.status === "PENDING" ? "partyPendingNote" : "partyApprovedNote")),
      );
    }
    if (state.editing) {
      parts.push(form(member));
    } else {
      parts.push(el("div", { class: "actions" }, el("button", {
        type: "button", class: member ? "quiet" : "", onclick: () => { state.editing = true; state.notice = null; render(); },
      }, t(member ? "partyEdit" : "partyRegister"))));
    }
    box.replaceChildren(...parts);
  }

  /** What is typed so far, so a language switch redraws the form without losing it. */
  function draft() {
    const value = (id) => document.getElementById(id)?.value;
    return {
      name: value("party-name"), workUnit: value("party-unit"), partyBranch: value("party-branch"),
      reportedOn: value("party-date"), communityId: value("party-community"),
    };
  }

  function form(saved) {
    const member = state.draft ?? saved;
    state.draft = null;
    const field = (id, label, value, attrs = {}) => {
      const input = el("input", { id, maxlength: 200, autocomplete: "off", ...attrs });
      input.value = value ?? "";
      return [el("label", { for: id }, t(label)), input];
    };
    const [nameLabel, name] = field("party-name", "partyName", member?.name, { maxlength: 50, autocomplete: "name" });
    const [unitLabel, unit] = field("party-unit", "partyUnit", member?.workUnit);
    const [branchLabel, branch] = field("party-branch", "partyBranch", member?.partyBranch);
    const [dateLabel, reportedOn] = field("party-date", "partyReportedOn", member?.reportedOn ?? today(), { type: "date", max: today() });
    const community = el("select", { id: "party-community" },
      state.communities.map((c) => el("option", { value: c }, state.names.get(c) ?? c)));
    if (member?.communityId && state.communities.includes(member.communityId)) community.value = member.communityId;
    const communityPart = el("div", { hidden: state.communities.length < 2 },
      el("label", { for: "party-community" }, t("partyCommunity")), community);
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit" }, t("partySubmit"));
    const node = el("form", { class: "choice", novalidate: true },
      saved?.status === "APPROVED" ? el("p", { class: "note" }, t("partyRecheck")) : null,
      nameLabel, name, unitLabel, unit, branchLabel, branch, communityPart, dateLabel, reportedOn, error,
      el("div", { class: "actions" }, submit,
        el("button", { type: "button", class: "quiet", onclick: () => { state.editing = false; render(); } }, t("partyCancel"))));
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      busyLabel(submit, error, async () => {
        const input = {
          communityId: community.value, name: name.value.trim(), workUnit: unit.value.trim(),
          partyBranch: branch.value.trim(), reportedOn: reportedOn.value || today(),
        };
        if (!input.name || !input.workUnit || !input.partyBranch) {
          throw new ApiError("BAD_USER_INPUT", tIn("zh", "partyMissing"), tIn("en", "partyMissing"), false);
        }
        state.member = (await gql(REGISTER, { input })).registerPartyMember;
        state.editing = false;
        state.notice = state.member.status === "PENDING" ? "partySent" : null;
        render();
      });
    });
    setTimeout(() => name.focus(), 0);
    return node;
  }

  onLangChange(() => {
    if (state.editing && box.querySelector("form")) state.draft = draft();
    render();
  });
  return {
    /** ``names``: each community's name by id, shown in the select (never the id). */
    start(communities, names = new Map()) {
      addModuleStrings(STRINGS);
      state.communities = communities;
      state.names = names;
      box.hidden = !communities.length;
      if (communities.length) load().catch(onError);
    },
    reload: () => load().catch(onError),
  };
}
