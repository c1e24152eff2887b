// Withdrawing from a shift on the volunteers' page: until the cut-off before it starts (the API's
// withdrawableUntil) one tap and an optional reason; later, whom to call instead.
import { el, fmtDateTime, gql, keyed, onLangChange, t } from "/static/common.js";
import { addModuleStrings, busyLabel } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    withdraw: "退出班次", withdrawReason: "退出原因（可不填，组织者会看到）", withdrawPlaceholder: "例如：家里临时有事",
    confirmWithdraw: "确认退出", keepShift: "不退出",
    withdrawBy: (when) => `如不能来，请在 ${when} 前退出。`,
    tooLate: (phone) => (phone ? `临近开始，不能在网上退出了。如不能来，请致电 ${phone}。` : "临近开始，不能在网上退出了。如不能来，请联系社区工作人员。"),
    withdrawn: "您已退出该班次，组织者已收到通知。",
  },
  en: {
    withdraw: "Withdraw", withdrawReason: "Why (optional; the organiser sees it)", withdrawPlaceholder: "e.g. Something came up at home",
    confirmWithdraw: "Withdraw", keepShift: "Stay on it",
    withdrawBy: (when) => `If you cannot come, withdraw by ${when}.`,
    tooLate: (phone) => (phone ? `It starts soon: you cannot withdraw online now. If you cannot come, call ${phone}.` : "It starts soon: you cannot withdraw online now. If you cannot come, tell the community's staff."),
    withdrawn: "You are off the shift; the organiser has been told.",
  },
};

const WITHDRAW = "mutation($input: WithdrawFromShiftInput!) { withdrawFromShift(input: $input) { shiftId } }";
export const WITHDRAW_FIELDS = "withdrawableUntil contactPhone";

const opened = new Set();
let rerender = () => {};
let started = false;

/** Call once the page has set its strings; ``redraw`` redraws the shifts (language switch). */
export function startWithdrawals(redraw) {
  rerender = redraw;
  if (started) return;
  started = true;
  addModuleStrings(STRINGS);
  onLangChange(() => rerender());
}

/** The withdraw part of one of my shifts; ``onWithdrawn`` reloads the page's lists. */
export function withdrawPart(shift, onWithdrawn, say) {
  if (new Date(shift.endsAt) <= new Date()) return null;
  const open = new Date() < new Date(shift.withdrawableUntil);
  if (!open) return el("p", { class: "note withdraw" }, t("tooLate", shift.contactPhone));
  if (!opened.has(shift.id)) {
    return el("div", { class: "withdraw" },
      el("p", { class: "muted" }, t("withdrawBy", fmtDateTime(shift.withdrawableUntil))),
      el("button", { type: "button", class: "quiet", onclick: () => { opened.add(shift.id); rerender(); } }, t("withdraw")));
  }
  const id = `withdraw-${shift.id}`;
  const reason = el("input", { id, maxlength: 200, placeholder: t("withdrawPlaceholder") });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const confirm = el("button", { type: "button" }, t("confirmWithdraw"));
  confirm.addEventListener("click", () => busyLabel(confirm, error, async () => {
    // Refused after the cut-off (WITHDRAWAL_CLOSED), the message says whom to call.
    await keyed(`shift-withdraw:${shift.id}`, (key) =>
      gql(WITHDRAW, { input: { shiftId: shift.id, reason: reason.value.trim() || null, idempotencyKey: key } }));
    opened.delete(shift.id);
    say(t("withdrawn"));
    await onWithdrawn();
  }));
  setTimeout(() => reason.focus(), 0);
  return el("div", { class: "withdraw choice" }, el("label", { for: id }, t("withdrawReason")), reason, error,
    el("div", { class: "actions" }, confirm,
      el("button", { type: "button", class: "quiet", onclick: () => { opened.delete(shift.id); rerender(); } }, t("keepShift"))));
}
