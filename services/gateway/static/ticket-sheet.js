// The printed ticket, one for the residents' page (打印/保存) and the grid workers' desk alike:
// what, when (上午/下午), where, who and how many, when to arrive, the community desk, the QR
// and a six-digit number the door can find it by. Printed alone on A6 paper or an 80 mm receipt
// printer (ticket-sheet.css), or downloaded as a PDF drawn by the gateway.
import { el, fmtTime, lang } from "/static/common.js";

const DAY_EN = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", weekday: "long", day: "numeric", month: "long" });

const STRINGS = {
  zh: {
    sheetDate: "日期", sheetTime: "时间", sheetVenue: "地点", sheetName: "姓名", sheetParty: "人数",
    sheetArrive: "到场", sheetDesk: "咨询", sheetPhone: (p) => `电话 ${p}`,
    sheetAdmits: (n, names) => `可入场 ${n} 人${names.length ? `：${names.join("、")}` : ""}`,
    sheetNumber: "票号", sheetNumberNote: "二维码扫不出时，请工作人员输入票号或您手机号后 4 位",
    ticketAlt: "入场二维码", printA6: "打印（A6 纸）", printReceipt: "打印（小票机）", savePdf: "保存为 PDF",
  },
  en: {
    sheetDate: "Date", sheetTime: "Time", sheetVenue: "Venue", sheetName: "Name", sheetParty: "People",
    sheetArrive: "Arrive", sheetDesk: "Questions", sheetPhone: (p) => `Tel. ${p}`,
    sheetAdmits: (n, names) => `Admits ${n}${names.length ? `: ${names.join(", ")}` : ""}`,
    sheetNumber: "Ticket no.", sheetNumberNote: "If the QR will not scan, staff can type this number or your phone's last 4 digits",
    ticketAlt: "Ticket QR code", printA6: "Print (A6 paper)", printReceipt: "Print (receipt printer)", savePdf: "Save as PDF",
  },
};

/** What to ask for with a ticket so it can be printed. */
export const TICKET_SHEET_FIELDS = `signupId code pngDataUrl partySize sheet {
  activity festival dateLabel timeLabel startsAt endsAt venue venueAddress holder partySize partyNames
  arriveBy community deskPhone shortCode }`;

/** This module's words in the page's language (kept apart from the page's own strings). */
function t(key, ...args) {
  const found = STRINGS[lang()][key] ?? STRINGS.zh[key];
  return typeof found === "function" ? found(...args) : found;
}

/** Print only the ticket, sized for A6 paper ("a6") or an 80 mm receipt roll ("receipt"). */
export function printTicket(sheet, paper) {
  for (const other of document.querySelectorAll(".print-sheet.printing")) other.classList.remove("printing");
  for (const old of document.querySelectorAll(".print-path")) old.classList.remove("print-path");
  sheet.classList.add("printing");
  // Everything but the sheet and its ancestors leaves the page, so the ticket prints on one sheet.
  for (let node = sheet.parentElement; node && node !== document.body; node = node.parentElement) node.classList.add("print-path");
  document.body.classList.remove("paper-a6", "paper-receipt");
  document.body.classList.add("printing-ticket", `paper-${paper}`);
  window.addEventListener("afterprint", () => {
    document.body.classList.remove("printing-ticket", "paper-a6", "paper-receipt");
    sheet.classList.remove("printing");
    for (const node of document.querySelectorAll(".print-path")) node.classList.remove("print-path");
  }, { once: true });
  window.print();
}

/** The ticket as a sheet to show, print or save; ``extra`` are more buttons for the screen. */
export function ticketSheet(ticket, ...extra) {
  const s = ticket.sheet;
  const en = lang() === "en";
  const lines = [
    [t("sheetDate"), en ? DAY_EN.format(new Date(s.startsAt)) : s.dateLabel],
    [t("sheetTime"), en ? `${fmtTime(s.startsAt)}–${fmtTime(s.endsAt)}` : s.timeLabel],
    [t("sheetVenue"), s.venueAddress ? `${s.venue}（${s.venueAddress}）` : s.venue],
    [t("sheetName"), s.holder],
    [t("sheetParty"), t("sheetAdmits", s.partySize, s.partyNames)],
    [t("sheetArrive"), s.arriveBy],
  ];
  const desk = [s.community, s.deskPhone ? t("sheetPhone", s.deskPhone) : null].filter(Boolean).join(" ");
  if (desk) lines.push([t("sheetDesk"), desk]);
  const sheet = el("section", { class: "ticket ticket-sheet print-sheet", dataset: { signup: ticket.signupId } },
    el("h3", { class: "sheet-title" }, s.activity),
    el("p", { class: "sheet-festival" }, s.festival),
    el("dl", {}, ...lines.flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)])),
    el("img", { src: ticket.pngDataUrl, alt: t("ticketAlt") }),
    el("p", { class: "sheet-number" }, `${t("sheetNumber")} `, el("strong", {}, s.shortCode)),
    el("p", { class: "note sheet-number-note" }, t("sheetNumberNote")),
    el("p", { class: "code-text no-print" }, ticket.code));
  const a6 = el("button", { type: "button" }, t("printA6"));
  a6.addEventListener("click", () => printTicket(sheet, "a6"));
  const receipt = el("button", { type: "button", class: "secondary" }, t("printReceipt"));
  receipt.addEventListener("click", () => printTicket(sheet, "receipt"));
  const pdf = el("a", { class: "button secondary", href: `/exports/tickets/${ticket.signupId}.pdf`, download: "" }, t("savePdf"));
  sheet.append(el("div", { class: "row no-print sheet-actions" }, a6, receipt, pdf, ...extra));
  return sheet;
}
