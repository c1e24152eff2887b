// 志愿服务记录证明 on the volunteers' pages: ask the community that kept the records for a
// numbered certificate of a period, print it or save the PDF (each carries a QR to its public
// check), see one's service records and ask for a wrong one to be corrected, with a reason.
import { allPages, ApiError, el, gql, keyed, onLangChange, t, tIn } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    certTitle: "志愿服务记录证明",
    certIntro: "可向记录您服务的社区免费申请志愿服务记录证明（有编号，单位可扫码核验）。",
    certCommunity: "出具社区", certFrom: "服务期间自", certTo: "至", certAsk: "申请证明",
    certNone: "还没有申请过证明。", certMine: "我的证明",
    certIssued: (number) => `证明已出具，编号 ${number}。`,
    certLine: (from, to, hours) => `${from} 至 ${to} · ${hours} 小时`,
    certVALID: "有效", certREVOKED: "已作废",
    certRevokedBecause: (reason) => `作废原因：${reason}`,
    certPrint: "打印", certPdf: "下载 PDF", certVerify: "核验页",
    recTitle: "我的服务记录", recNone: "还没有服务记录。",
    recLine: (day, content, place, minutes) => `${day} · ${content} · ${place} · ${minutes} 分钟`,
    recLocked: "已锁定", recConfirmed: "已确认",
    recAsk: "申请更正", recMinutes: "应记分钟数", recReason: "更正理由", recSend: "提交更正申请", recCancel: "返回",
    recMissing: "请填写应记的分钟数和理由。",
    recSent: "更正申请已提交，社区处理后会通知您。",
    corrTitle: "我的更正申请",
    corrLine: (content, from, to) => `${content}：${from} → ${to} 分钟`,
    corrOPEN: "待社区处理", corrACCEPTED: "已更正", corrDECLINED: "未通过",
    corrDeclinedBecause: (reason) => `原因：${reason}`,
  },
  en: {
    certTitle: "Certificates of volunteer service",
    certIntro: "Ask the community that recorded your service for a free, numbered certificate; work units check it by its QR.",
    certCommunity: "Issuing community", certFrom: "From", certTo: "To", certAsk: "Request a certificate",
    certNone: "No certificate yet.", certMine: "My certificates",
    certIssued: (number) => `Issued: number ${number}.`,
    certLine: (from, to, hours) => `${from} to ${to} · ${hours} hours`,
    certVALID: "Valid", certREVOKED: "Revoked",
    certRevokedBecause: (reason) => `Revoked because: ${reason}`,
    certPrint: "Print", certPdf: "Download PDF", certVerify: "Check page",
    recTitle: "My service records", recNone: "No service records yet.",
    recLine: (day, content, place, minutes) => `${day} · ${content} · ${place} · ${minutes} min`,
    recLocked: "Locked", recConfirmed: "Confirmed",
    recAsk: "Ask for a correction", recMinutes: "Minutes it should count", recReason: "Why", recSend: "Send",
    recCancel: "Back", recMissing: "Give the minutes and a reason.",
    recSent: "Sent: the community will tell you what it decided.",
    corrTitle: "My correction requests",
    corrLine: (content, from, to) => `${content}: ${from} → ${to} min`,
    corrOPEN: "Waiting for the community", corrACCEPTED: "Corrected", corrDECLINED: "Not accepted",
    corrDeclinedBecause: (reason) => `Why: ${reason}`,
  },
};

const CERTIFICATES = `query($limit: Int!, $after: ID) { myCertificates(limit: $limit, after: $after) {
  id number startsOn endsOn hours status revokeReason communityName verificationPath } }`;
const CORRECTIONS = `query($limit: Int!, $after: ID) { myRecordCorrections(limit: $limit, after: $after) {
  id role creditedMinutes askedMinutes status declineReason } }`;
const LEDGER = `query($limit: Int!, $after: ID) { myServiceHours { entries(limit: $limit, after: $after) {
  id shiftId kind minutes content place shiftStartsAt locked confirmedAt } } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { number } }`;
const ASK = `mutation($input: RequestRecordCorrectionInput!) { requestRecordCorrection(input: $input) { id status } }`;
const BADGE = { VALID: "ok", REVOKED: "off", OPEN: "wait", ACCEPTED: "ok", DECLINED: "off" };

function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

function dayOfIso(iso) {
  return iso ? new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(iso)) : "";
}

/** Wire the card to ``box``; ``onError`` shows a failed load (with its 重试). */
export function certificatesCard(box, onError) {
  const state = { data: null, communities: [], names: new Map(), notice: null, correcting: null, period: null };

  async function load() {
    const [myCertificates, myRecordCorrections, entries] = await Promise.all([
      allPages(CERTIFICATES, {}, (d) => d.myCertificates),
      allPages(CORRECTIONS, {}, (d) => d.myRecordCorrections),
      allPages(LEDGER, {}, (d) => d.myServiceHours.entries),
    ]);
    state.data = { myCertificates, myRecordCorrections, myServiceHours: { entries } };
    render();
  }

  function render() {
    if (!state.data) return;
    const { myCertificates: certs, myServiceHours: hours, myRecordCorrections: corrections } = state.data;
    const parts = [el("h2", {}, t("certTitle")), el("p", { class: "note" }, t("certIntro"))];
    if (state.notice) parts.push(el("p", { class: "confirm", role: "status" }, state.notice));
    parts.push(askForm());
    parts.push(el("h3", { class: "spaced" }, t("certMine")));
    if (!certs.length) parts.push(el("p", { class: "muted" }, t("certNone")));
    for (const cert of certs) {
      const file = (suffix) => `/certificates/${encodeURIComponent(cert.number)}.${suffix}`;
      parts.push(el("div", { class: "certificate", dataset: { number: cert.number } },
        el("p", {}, el("span", { class: `badge ${BADGE[cert.status]}` }, t(`cert${cert.status}`)), " ",
          el("strong", {}, cert.number)),
        el("p", { class: "muted" }, `${cert.communityName} · ${t("certLine", cert.startsOn, cert.endsOn, cert.hours.toFixed(2))}`),
        cert.revokeReason ? el("p", { class: "note" }, t("certRevokedBecause", cert.revokeReason)) : null,
        el("p", { class: "actions" },
          el("a", { href: file("html"), target: "_blank", rel: "noopener" }, t("certPrint")), " ",
          el("a", { href: file("pdf"), download: `certificate-${cert.number}.pdf` }, t("certPdf")), " ",
          el("a", { href: cert.verificationPath, target: "_blank", rel: "noopener" }, t("certVerify")))));
    }
    parts.push(el("h3", { class: "spaced" }, t("recTitle")));
    const records = hours.entries.filter((e) => e.kind === "ATTENDANCE" && e.shiftId);
    if (!records.length) parts.push(el("p", { class: "muted" }, t("recNone")));
    for (const record of records) parts.push(recordLine(record));
    if (corrections.length) {
      parts.push(el("h3", { class: "spaced" }, t("corrTitle")));
      for (const c of corrections) {
        parts.push(el("p", { class: "correction" },
          el("span", { class: `badge ${BADGE[c.status]}` }, t(`corr${c.status}`)), " ",
          t("corrLine", c.role, c.creditedMinutes, c.askedMinutes),
          c.declineReason ? ` · ${t("corrDeclinedBecause", c.declineReason)}` : ""));
      }
    }
    box.replaceChildren(...parts);
  }

  function askForm() {
    const community = el("select", { id: "cert-community" },
      state.communities.map((c) => el("option", { value: c }, state.names.get(c) ?? c)));
    const from = el("input", { id: "cert-from", type: "date", max: today() });
    from.value = state.period?.from ?? `${today().slice(0, 4)}-01-01`;
    const to = el("input", { id: "cert-to", type: "date", max: today() });
    to.value = state.period?.to ?? today();
    if (state.period?.community) community.value = state.period.community;
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit" }, t("certAsk"));
    const form = el("form", { class: "choice", novalidate: true },
      el("div", { hidden: state.communities.length < 2 }, el("label", { for: "cert-community" }, t("certCommunity")), community),
      el("label", { for: "cert-from" }, t("certFrom")), from, el("label", { for: "cert-to" }, t("certTo")), to,
      error, el("div", { class: "actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busyLabel(submit, error, async () => {
        state.period = { community: community.value, from: from.value, to: to.value };
        const action = `certificate:${community.value}:${from.value}:${to.value}`;
        const issued = await keyed(action, (key) => gql(ISSUE, {
          input: { communityId: community.value, startsOn: from.value, endsOn: to.value, idempotencyKey: key },
        }));
        state.notice = t("certIssued", issued.issueCertificate.number);
        await load();
      });
    });
    return form;
  }

  function recordLine(record) {
    const line = el("div", { class: "record" },
      el("p", {}, t("recLine", dayOfIso(record.shiftStartsAt), record.content, record.place, record.minutes),
        record.confirmedAt ? el("span", { class: "badge ok" }, t("recConfirmed")) : null,
        record.locked ? el("span", { class: "badge wait" }, t("recLocked")) : null));
    if (state.correcting === record.id) {
      line.append(correctionForm(record));
    } else {
      line.append(el("button", { type: "button", class: "quiet", onclick: () => { state.correcting = record.id; render(); } },
        t("recAsk")));
    }
    return line;
  }

  function correctionForm(record) {
    const minutes = el("input", { id: "rec-minutes", type: "number", inputmode: "numeric", min: 0, max: 1440 });
    const reason = el("textarea", { id: "rec-reason", maxlength: 500, rows: 2 });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit" }, t("recSend"));
    const form = el("form", { class: "choice", novalidate: true },
      el("label", { for: "rec-minutes" }, t("recMinutes")), minutes,
      el("label", { for: "rec-reason" }, t("recReason")), reason, error,
      el("div", { class: "actions" }, submit,
        el("button", { type: "button", class: "quiet", onclick: () => { state.correcting = null; render(); } }, t("recCancel"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busyLabel(submit, error, async () => {
        if (minutes.value === "" || !reason.value.trim()) {
          throw new ApiError("BAD_USER_INPUT", tIn("zh", "recMissing"), tIn("en", "recMissing"), false);
        }
        await keyed(`record-correction:${record.shiftId}`, (key) => gql(ASK, {
          input: { shiftId: record.shiftId, minutes: Number(minutes.value), reason: reason.value.trim(), idempotencyKey: key },
        }));
        state.correcting = null;
        state.notice = t("recSent");
        await load();
      });
    });
    setTimeout(() => minutes.focus(), 0);
    return form;
  }

  onLangChange(render);
  return {
    /** ``communities`` the person belongs to, with their names (shown, never the ids). */
    start(communities, names = new Map()) {
      addModuleStrings(STRINGS);
      state.communities = communities;
      state.names = names;
      box.hidden = !communities.length;
      box.replaceChildren(el("h2", {}, t("certTitle")), el("p", { class: "note" }, t("loadingList")));
      if (communities.length) load().catch(onError);
    },
    reload: () => load().catch(onError),
  };
}
