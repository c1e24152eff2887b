// The console's 志愿服务记录 card: volunteers' requests to correct a record (accept, or decline
// with a reason they read), the register of certificates issued (print, revoke with a reason),
// and, for community admins, who the certificates name as issuer (负责人, 经办人, number code).
import { allPages, ApiError, el, fmtDateTime, gql, onLangChange, t, tIn } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    recordsTitle: "志愿服务记录与证明",
    corrTitle: "记录更正申请", corrNone: "没有待处理的更正申请。",
    corrNote: "志愿者认为服务记录有误时提出。同意后将记入一条更正记录（原记录保留）；不同意请写明原因，志愿者会看到。",
    corrWho: (name) => name || "一位志愿者",
    corrShift: (role, venue, when) => `${role} · ${venue} · ${when}`,
    corrAsk: (from, to) => `现记 ${from} 分钟，申请改为 ${to} 分钟`, corrWhy: (reason) => `理由：${reason}`,
    corrAccept: "同意更正", corrDecline: "不予更正", corrConfirmDecline: "确认不予更正", corrKeep: "返回",
    corrDeclineReason: "不予更正的原因（志愿者会看到）", corrNeedReason: "请填写不予更正的原因。",
    corrAccepted: (name) => `已更正${name}的服务记录，并已通知本人。`, corrDeclined: (name) => `已告知${name}不予更正的原因。`,
    regTitle: "证明登记簿", regNone: "还没有出具过证明。",
    regLine: (name, from, to, hours) => `${name} · ${from} 至 ${to} · ${hours} 小时`,
    regVALID: "有效", regREVOKED: "已作废", regPrint: "打印", regRevoke: "作废",
    regRevokeReason: "作废原因", regConfirmRevoke: "确认作废", regNeedReason: "请填写作废原因。",
    regRevoked: (number) => `证明 ${number} 已作废，持有人已收到通知。`, regRevokedBecause: (reason) => `作废原因：${reason}`,
    issuerTitle: "证明出具单位信息", issuerNote: "证明上印出的负责人、经办人和编号代码（如 SF：LW-SF-2026-000001）。联系方式为社区服务台电话。",
    issuerPerson: "负责人", issuerHandler: "经办人", issuerCode: "编号代码", issuerContact: (phone) => `联系方式：${phone || "（未填写服务台电话）"}`,
    issuerSave: "保存", issuerSaved: "已保存。", issuerMissing: "请填写负责人、经办人和编号代码。",
    exportTitle: "导出服务记录", exportNote: "按全国志愿服务信息系统批量导入的格式导出（CSV）；证件类型和号码需自行补填，详见说明文档。",
    exportFrom: "自", exportTo: "至", exportLink: "导出 CSV",
  },
  en: {
    recordsTitle: "Service records and certificates",
    corrTitle: "Record correction requests", corrNone: "No correction requests waiting.",
    corrNote: "Volunteers ask when they find a record wrong. Accepting adds a correction entry (the record stays); when you decline, give the reason they will read.",
    corrWho: (name) => name || "A volunteer",
    corrShift: (role, venue, when) => `${role} · ${venue} · ${when}`,
    corrAsk: (from, to) => `Recorded ${from} min; asks for ${to} min`, corrWhy: (reason) => `Why: ${reason}`,
    corrAccept: "Correct it", corrDecline: "Decline", corrConfirmDecline: "Decline", corrKeep: "Back",
    corrDeclineReason: "Why not (they read it)", corrNeedReason: "Give the reason.",
    corrAccepted: (name) => `${name}'s record is corrected; they have been told.`, corrDeclined: (name) => `${name} has been told why not.`,
    regTitle: "Register of certificates", regNone: "No certificate issued yet.",
    regLine: (name, from, to, hours) => `${name} · ${from} to ${to} · ${hours} hours`,
    regVALID: "Valid", regREVOKED: "Revoked", regPrint: "Print", regRevoke: "Revoke",
    regRevokeReason: "Why revoke", regConfirmRevoke: "Revoke", regNeedReason: "Give the reason.",
    regRevoked: (number) => `Certificate ${number} revoked; its holder has been told.`, regRevokedBecause: (reason) => `Revoked because: ${reason}`,
    issuerTitle: "Issuer on certificates", issuerNote: "Who certificates name as person in charge and handler, and the code in their numbers (SF: LW-SF-2026-000001). The contact is the desk's phone.",
    issuerPerson: "Person in charge", issuerHandler: "Handler", issuerCode: "Number code", issuerContact: (phone) => `Contact: ${phone || "(no desk phone yet)"}`,
    issuerSave: "Save", issuerSaved: "Saved.", issuerMissing: "Fill in the person in charge, the handler and the code.",
    exportTitle: "Export service records", exportNote: "In the layout of the national volunteer information system's batch import (CSV); ID type and number are for you to fill in.",
    exportFrom: "From", exportTo: "To", exportLink: "Export CSV",
  },
};

const LOAD = `query($c: String!) {
  certificateIssuer(communityId: $c) { name personInCharge handler contact numberCode }
}`;
const OPEN_CORRECTIONS = `query($c: String!, $limit: Int!, $after: ID) {
  openRecordCorrections(communityId: $c, limit: $limit, after: $after) {
    id name role venue shiftStartsAt creditedMinutes askedMinutes reason } }`;
const REGISTER = `query($c: String!, $limit: Int!, $after: ID) {
  certificateRegister(communityId: $c, limit: $limit, after: $after) {
    id number volunteerName startsOn endsOn hours status revokeReason } }`;
const DECIDE = "mutation($input: DecideRecordCorrectionInput!) { decideRecordCorrection(input: $input) { id status } }";
const REVOKE = "mutation($input: RevokeCertificateInput!) { revokeCertificate(input: $input) { number status } }";
const SET_ISSUER = `mutation($c: String!, $p: String!, $h: String!, $code: String!) {
  setCertificateIssuer(communityId: $c, personInCharge: $p, handler: $h, numberCode: $code) { numberCode } }`;
const BADGE = { VALID: "ok", REVOKED: "off" };

/** Wire the card to ``box``; ``onError`` shows a failed load. */
export function certificateDesk(box, onError) {
  const state = { communities: [], names: new Map(), admin: false, data: [], open: null, done: null, started: false };

  async function load() {
    state.data = await Promise.all(state.communities.map(async (c) => {
      const [issuer, openRecordCorrections, certificateRegister] = await Promise.all([
        gql(LOAD, { c }),
        allPages(OPEN_CORRECTIONS, { c }, (d) => d.openRecordCorrections),
        allPages(REGISTER, { c }, (d) => d.certificateRegister),
      ]);
      return { community: c, ...issuer, openRecordCorrections, certificateRegister };
    }));
    render();
  }
  const reload = () => load().catch(onError);

  function render() {
    if (!state.started) return;
    const parts = [el("div", { class: "row heading-row" }, el("h2", {}, t("recordsTitle")),
      el("button", { type: "button", class: "quiet", onclick: reload }, t("refresh")))];
    if (state.done) parts.push(el("p", { class: "confirm", role: "status" }, state.done()));
    const requests = state.data.flatMap((d) => d.openRecordCorrections);
    parts.push(el("h3", { class: "spaced" }, t("corrTitle")), el("p", { class: "note" }, t("corrNote")));
    if (!requests.length) parts.push(el("p", { class: "muted" }, t("corrNone")));
    for (const request of requests) parts.push(correction(request));
    parts.push(el("h3", { class: "spaced" }, t("regTitle")));
    const register = state.data.flatMap((d) => d.certificateRegister);
    if (!register.length) parts.push(el("p", { class: "muted" }, t("regNone")));
    for (const cert of register) parts.push(registerLine(cert));
    for (const d of state.data) parts.push(exportLink(d.community, d.certificateIssuer.name));
    if (state.admin) for (const d of state.data) parts.push(issuerForm(d.community, d.certificateIssuer));
    box.replaceChildren(...parts);
  }

  function correction(request) {
    const who = t("corrWho", request.name);
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const send = (button, input, done) => busyLabel(button, error, async () => {
      await gql(DECIDE, { input: { requestId: request.id, ...input() } });
      state.open = null;
      state.done = () => t(done, who);
      await load();
    });
    let actions;
    if (state.open === `decline:${request.id}`) {
      const reason = el("input", { maxlength: 200, "aria-label": t("corrDeclineReason"), placeholder: t("corrDeclineReason") });
      const confirm = el("button", { type: "button" }, t("corrConfirmDecline"));
      confirm.addEventListener("click", () => send(confirm, () => {
        if (!reason.value.trim()) throw new ApiError("BAD_USER_INPUT", tIn("zh", "corrNeedReason"), tIn("en", "corrNeedReason"), false);
        return { decision: "DECLINE", reason: reason.value.trim() };
      }, "corrDeclined"));
      setTimeout(() => reason.focus(), 0);
      actions = el("div", { class: "choice" }, reason, error, el("div", { class: "actions" }, confirm,
        el("button", { type: "button", class: "quiet", onclick: () => { state.open = null; render(); } }, t("corrKeep"))));
    } else {
      const accept = el("button", { type: "button" }, t("corrAccept"));
      accept.addEventListener("click", () => send(accept, () => ({ decision: "ACCEPT" }), "corrAccepted"));
      actions = el("div", {}, error, el("div", { class: "actions" }, accept,
        el("button", { type: "button", class: "quiet", onclick: () => { state.open = `decline:${request.id}`; state.done = null; render(); } },
          t("corrDecline"))));
    }
    return el("article", { class: "card wish record-correction" },
      el("h3", {}, who),
      el("p", {}, t("corrShift", request.role, request.venue, fmtDateTime(request.shiftStartsAt))),
      el("p", {}, t("corrAsk", request.creditedMinutes, request.askedMinutes)),
      el("p", { class: "muted" }, t("corrWhy", request.reason)), actions);
  }

  function registerLine(cert) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const parts = [
      el("p", {}, el("span", { class: `badge ${BADGE[cert.status]}` }, t(`reg${cert.status}`)), " ", el("strong", {}, cert.number), " ",
        el("a", { href: `/certificates/${encodeURIComponent(cert.number)}.html`, target: "_blank", rel: "noopener" }, t("regPrint"))),
      el("p", { class: "muted" }, t("regLine", cert.volunteerName, cert.startsOn, cert.endsOn, cert.hours.toFixed(2))),
    ];
    if (cert.revokeReason) parts.push(el("p", { class: "note" }, t("regRevokedBecause", cert.revokeReason)));
    if (cert.status === "VALID" && state.open === `revoke:${cert.number}`) {
      const reason = el("input", { maxlength: 200, "aria-label": t("regRevokeReason"), placeholder: t("regRevokeReason") });
      const confirm = el("button", { type: "button" }, t("regConfirmRevoke"));
      confirm.addEventListener("click", () => busyLabel(confirm, error, async () => {
        if (!reason.value.trim()) throw new ApiError("BAD_USER_INPUT", tIn("zh", "regNeedReason"), tIn("en", "regNeedReason"), false);
        await gql(REVOKE, { input: { number: cert.number, reason: reason.value.trim() } });
        state.open = null;
        state.done = () => t("regRevoked", cert.number);
        await load();
      }));
      setTimeout(() => reason.focus(), 0);
      parts.push(el("div", { class: "choice" }, reason, error, el("div", { class: "actions" }, confirm,
        el("button", { type: "button", class: "quiet", onclick: () => { state.open = null; render(); } }, t("corrKeep")))));
    } else if (cert.status === "VALID") {
      parts.push(el("div", { class: "actions" }, el("button", { type: "button", class: "quiet",
        onclick: () => { state.open = `revoke:${cert.number}`; state.done = null; render(); } }, t("regRevoke"))));
    }
    return el("div", { class: "certificate", dataset: { number: cert.number } }, ...parts);
  }

  function exportLink(community, name) {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
    const from = el("input", { id: `export-from-${community}`, type: "date", max: today });
    from.value = `${today.slice(0, 4)}-01-01`;
    const to = el("input", { id: `export-to-${community}`, type: "date", max: today });
    to.value = today;
    const link = el("a", { class: "button quiet", download: "" }, t("exportLink"));
    const point = () => {
      const query = new URLSearchParams({ communityId: community, startsOn: from.value, endsOn: to.value });
      link.href = `/exports/volunteers/service-records.csv?${query}`;
    };
    from.addEventListener("change", point);
    to.addEventListener("change", point);
    point();
    return el("div", { class: "choice record-export" },
      el("h3", { class: "spaced" }, `${t("exportTitle")} · ${name}`), el("p", { class: "note" }, t("exportNote")),
      el("label", { for: from.id }, t("exportFrom")), from, el("label", { for: to.id }, t("exportTo")), to,
      el("div", { class: "actions" }, link));
  }

  function issuerForm(community, issuer) {
    const field = (key, label, value, max) => {
      const input = el("input", { id: `issuer-${key}-${community}`, maxlength: max });
      input.value = value ?? "";
      return [el("label", { for: input.id }, t(label)), input];
    };
    const [personLabel, person] = field("person", "issuerPerson", issuer.personInCharge, 20);
    const [handlerLabel, handler] = field("handler", "issuerHandler", issuer.handler, 20);
    const [codeLabel, code] = field("code", "issuerCode", issuer.numberCode, 12);
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const save = el("button", { type: "submit" }, t("issuerSave"));
    const form = el("form", { class: "choice", novalidate: true },
      el("h3", { class: "spaced" }, `${t("issuerTitle")} · ${issuer.name}`), el("p", { class: "note" }, t("issuerNote")),
      personLabel, person, handlerLabel, handler, codeLabel, code,
      el("p", { class: "muted" }, t("issuerContact", issuer.contact)), error, el("div", { class: "actions" }, save));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busyLabel(save, error, async () => {
        if (!person.value.trim() || !handler.value.trim() || !code.value.trim()) {
          throw new ApiError("BAD_USER_INPUT", tIn("zh", "issuerMissing"), tIn("en", "issuerMissing"), false);
        }
        await gql(SET_ISSUER, { c: community, p: person.value.trim(), h: handler.value.trim(), code: code.value.trim() });
        state.done = () => t("issuerSaved");
        await load();
      });
    });
    return form;
  }

  onLangChange(render);
  return {
    /** ``organises``: organisers and community admins see the card; ``admin``: community admins set the issuer. */
    start(communities, names, organises, admin) {
      if (!state.started) addModuleStrings(STRINGS);
      state.started = organises;
      box.hidden = !organises;
      state.communities = communities;
      state.names = names;
      state.admin = admin;
      if (organises) {
        box.replaceChildren(el("h2", {}, t("recordsTitle")), el("p", { class: "note" }, t("loadingList")));
        reload();
      }
    },
  };
}
