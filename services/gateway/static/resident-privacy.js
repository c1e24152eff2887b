// 我的 → 我的数据与账号 (PIPL): see everything Linli holds about me, save it as a file, or delete
// the account. The readable page is printable; the file is the same data as JSON.
import { addStrings, busy, el, fmtDateTime, gql, onLangChange, t } from "/static/common.js";

const STRINGS = {
  zh: {
    dataTitle: "我的数据与账号",
    dataNote: "您可以随时查看、下载平台保存的关于您的全部信息，或注销账号。",
    dataShow: "查看我的数据", dataDownload: "下载我的数据（JSON 文件）", dataPrint: "打印",
    dataProfile: "个人资料", dataHousehold: "家庭成员", dataSignups: "活动报名", dataShifts: "志愿服务",
    dataHours: "服务时长记录", dataWishes: "微心愿", dataInbox: "站内消息", dataPrefs: "通知设置",
    dataConsents: "同意记录", dataNone: "无",
    fName: "姓名", fPhone: "手机号", fCommunity: "社区", fAddress: "楼栋单元", fSince: "注册时间",
    consentPRIVACY_NOTICE: (v) => `同意《隐私告知》（${v}版）`, consentGUARDIAN: "监护人同意登记未成年家人",
    people: (n) => `${n}人`, minutes: (n) => `${n}分钟`,
    deleteTitle: "注销账号",
    deleteNote: "注销后，您的姓名、电话、家人、收件箱、短信记录和心愿内容将被删除；尚未结束的活动报名和志愿班次会被取消，名额让给候补的邻居；已参加的报名人数、志愿服务时长、服务证明编号和审计记录以化名保留，无法再与您对应。此操作不能撤销。",
    deleteType: "请输入“注销”以确认", deleteButton: "注销账号", deleteDone: "账号已注销。",
  },
  en: {
    dataTitle: "My data and account",
    dataNote: "See or download everything Linli holds about you at any time, or delete your account.",
    dataShow: "Show my data", dataDownload: "Download my data (JSON file)", dataPrint: "Print",
    dataProfile: "Profile", dataHousehold: "Household", dataSignups: "Sign-ups", dataShifts: "Volunteer shifts",
    dataHours: "Service hours", dataWishes: "Small wishes", dataInbox: "Inbox", dataPrefs: "Notifications",
    dataConsents: "Consents", dataNone: "None",
    fName: "Name", fPhone: "Mobile", fCommunity: "Community", fAddress: "Building and unit", fSince: "Registered",
    consentPRIVACY_NOTICE: (v) => `Accepted the privacy notice (version ${v})`,
    consentGUARDIAN: "Guardian's consent for a child",
    people: (n) => `${n} people`, minutes: (n) => `${n} minutes`,
    deleteTitle: "Delete my account",
    deleteNote: "Your name, numbers, family, inbox, texts and wishes' words will be erased; your sign-ups and shifts not yet over are cancelled and their places go to those waiting; past sign-up counts, service hours, certificate numbers and the audit log stay under a pseudonym that no longer leads to you. This cannot be undone.",
    deleteType: "Type “注销” to confirm", deleteButton: "Delete my account", deleteDone: "Your account is deleted.",
  },
};

const DELETE = "mutation($confirmation: String!) { deleteMyAccount(confirmation: $confirmation) }";

function when(iso) {
  return iso ? fmtDateTime(iso) : "";
}

function section(title, items) {
  return el("section", { class: "card my-data-part" },
    el("h3", {}, title),
    items.length ? el("ul", {}, items.map((item) => el("li", {}, item))) : el("p", { class: "muted" }, t("dataNone")));
}

/** The data as a person reads it: names and times, no ids. */
function readable(data) {
  const p = data.profile ?? {};
  return [
    section(t("dataProfile"), [
      `${t("fName")}：${p.name || "—"}`, `${t("fPhone")}：${p.phone || p.contact_phone || "—"}`,
      `${t("fCommunity")}：${p.community_name || "—"}`, `${t("fAddress")}：${[p.building, p.unit].join(" ").trim() || "—"}`,
      `${t("fSince")}：${when(p.created_at)}`,
    ]),
    section(t("dataHousehold"), (data.household ?? []).map((m) => `${m.name}（${t(`rel${m.relation}`)} · ${t(`age${m.age_band}`)}）`)),
    section(t("dataSignups"), (data.signups ?? []).map((s) =>
      `${when(s.starts_at)} ${s.activity} · ${s.venue} · ${t(`status${s.status}`)} · ${t("people", s.party_size)}`)),
    section(t("dataShifts"), (data.shifts ?? []).map((s) => `${when(s.starts_at)} ${s.role} · ${s.venue}`)),
    section(t("dataHours"), (data.serviceHours ?? []).map((h) => `${when(h.created_at)} ${t("minutes", h.minutes)}${h.reason ? ` · ${h.reason}` : ""}`)),
    section(t("dataWishes"), (data.wishes ?? []).map((w) => `${when(w.created_at)} ${w.description}`)),
    section(t("dataInbox"), (data.inbox ?? []).map((m) => `${when(m.created_at)} ${m.title_zh}：${m.body_zh}`)),
    section(t("dataPrefs"), (data.preferences ?? []).map((x) =>
      `${(x.channels ?? []).map((c) => t(`ch${String(c).toUpperCase()}`)).join("、") || "—"} · ${x.quiet_start ?? ""}–${x.quiet_end ?? ""}`)),
    section(t("dataConsents"), (data.consents ?? []).map((c) =>
      `${when(c.given_at)} ${c.kind === "GUARDIAN" ? t("consentGUARDIAN") : t("consentPRIVACY_NOTICE", c.notice_version)}`)),
  ];
}

function download(data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const link = el("a", { href: URL.createObjectURL(blob), download: "linli-my-data.json" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

/** Fill ``box`` with the card; ``afterDelete`` runs once the account is gone (logged out). */
export function myDataCard(box, afterDelete) {
  addStrings(STRINGS);
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const shown = el("div", { id: "my-data-shown" });
  const show = el("button", { type: "button", class: "secondary wide" }, "");
  const save = el("button", { type: "button", class: "quiet wide" }, "");
  const print = el("button", { type: "button", class: "quiet wide", hidden: true, onclick: () => window.print() }, "");
  const load = async () => (await gql("{ myData }")).myData;
  show.addEventListener("click", () => busy(show, error, async () => {
    shown.replaceChildren(...readable(await load()));
    print.hidden = false;
  }));
  save.addEventListener("click", () => busy(save, error, async () => download(await load())));

  const typed = el("input", { id: "delete-confirm", maxlength: "10", autocomplete: "off" });
  const deleteError = el("p", { class: "error", role: "alert", hidden: true });
  const done = el("p", { class: "confirm", role: "status", hidden: true });
  const remove = el("button", { type: "submit", class: "wide danger" }, "");
  const form = el("form", { class: "card", id: "delete-form" },
    el("h3", { "data-i18n": "deleteTitle" }, t("deleteTitle")),
    el("p", { class: "note", "data-i18n": "deleteNote" }, t("deleteNote")),
    el("label", { for: "delete-confirm", "data-i18n": "deleteType" }, t("deleteType")),
    typed, deleteError, done, remove);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(remove, deleteError, async () => {
      await gql(DELETE, { confirmation: typed.value.trim() });
      done.hidden = false;
      done.textContent = t("deleteDone");
      setTimeout(afterDelete, 1500);
    });
  });
  const label = () => {
    show.textContent = t("dataShow");
    save.textContent = t("dataDownload");
    print.textContent = t("dataPrint");
    remove.textContent = t("deleteButton");
  };
  label();
  onLangChange(label);
  box.replaceChildren(
    el("h2", { "data-i18n": "dataTitle" }, t("dataTitle")),
    el("div", { class: "card" }, el("p", { class: "note", "data-i18n": "dataNote" }, t("dataNote")), show, save, print, error),
    shown,
    form,
  );
}
