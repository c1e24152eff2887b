// What a session's status is called, for the console and the residents' page alike:
// 未开始 / 报名中 / 已满 / 进行中 / 已结束 (or 已取消), from its times and seats, not only its row status.
import { addStrings } from "/static/common.js";

const STRINGS = {
  zh: {
    phaseNOT_OPEN: "未开始", phaseOPEN: "报名中", phaseFULL: "已满", phaseUNDERWAY: "进行中",
    phaseENDED: "已结束", phaseCANCELLED: "已取消",
  },
  en: {
    phaseNOT_OPEN: "Not started", phaseOPEN: "Open for sign-up", phaseFULL: "Full", phaseUNDERWAY: "Under way",
    phaseENDED: "Over", phaseCANCELLED: "Cancelled",
  },
};
let added = false;

/** Add the words (after the page's own useStrings, which replaces the table). */
export function usePhaseStrings() {
  if (added) return;
  added = true; // first: adding strings re-renders the page, which asks again
  addStrings(STRINGS);
}

/**
 * NOT_OPEN (before sign-ups open, or after they closed and before it starts), OPEN, FULL,
 * UNDERWAY (between its start and end), ENDED or CANCELLED.
 */
export function sessionPhase(session, now = new Date()) {
  if (session.status === "CANCELLED") return "CANCELLED";
  const at = (iso) => (iso ? new Date(iso).getTime() : null);
  const time = now.getTime();
  if (at(session.endsAt) <= time) return "ENDED";
  if (at(session.startsAt) <= time) return "UNDERWAY";
  const opens = at(session.registrationOpensAt);
  const closes = at(session.registrationClosesAt);
  if ((opens !== null && opens > time) || (closes !== null && closes <= time)) return "NOT_OPEN";
  return session.seatsLeft > 0 ? "OPEN" : "FULL";
}

const BADGE = { NOT_OPEN: "wait", OPEN: "ok", FULL: "wait", UNDERWAY: "ok", ENDED: "off", CANCELLED: "off" };

/** The badge class that goes with a phase. */
export function phaseBadge(phase) {
  return BADGE[phase];
}
