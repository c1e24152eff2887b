// The console's shift roster: an organiser undoes a volunteer's mistaken check-out while the shift lasts.
import { addStrings, busy, el, gql, keyed, t } from "/static/common.js";

// Added when first needed: the console's own useStrings runs after this module is imported.
const STRINGS = {
  zh: {
    undoCheckOut: "撤销签退",
    undoneCheckOut: (m) => (m ? `已撤销签退：该志愿者恢复为服务中，已扣回 ${m} 分钟。` : "已撤销签退：该志愿者恢复为服务中。"),
  },
  en: {
    undoCheckOut: "Undo check-out",
    undoneCheckOut: (m) => (m ? `Check-out undone: on duty again; ${m} minutes taken back.` : "Check-out undone: on duty again."),
  },
};
let added = false;

const UNDO = `mutation($input: UndoCheckOutInput!) {
  undoCheckOut(input: $input) { id checkedInAt checkedOutAt } }`;

/**
 * For one roster line: a button that undoes the volunteer's check-out while the shift lasts,
 * then says what it did and calls ``onDone`` (to redraw the roster). Null when there is nothing
 * to undo.
 */
export function undoCheckOutControl(shift, entry, onDone) {
  if (!added) {
    added = true; // first: adding strings re-renders the page, which asks again
    addStrings(STRINGS);
  }
  if (!entry.checkedOutAt || new Date(shift.endsAt) <= new Date()) return null;
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const said = el("p", { class: "confirm", role: "status", hidden: true });
  const button = el("button", { type: "button", class: "quiet" }, t("undoCheckOut"));
  button.addEventListener("click", () => busy(button, error, async () => {
    await keyed(`undo-check-out:${shift.id}:${entry.volunteerId}:${entry.checkedOutAt}`, (key) =>
      gql(UNDO, { input: { shiftId: shift.id, volunteerId: entry.volunteerId, idempotencyKey: key } }));
    button.hidden = true;
    said.hidden = false;
    said.textContent = t("undoneCheckOut", entry.minutesCredited);
    await onDone?.(said.textContent);
  }));
  return el("span", { class: "actions" }, button, error, said);
}
