// 我的报名 kept live: when the seats or waitlist of a session I wait for change (someone cancelled,
// I was moved up), my sign-ups are fetched again at once; a new inbox message does the same.
import { LiveCounts } from "/static/live.js";

const MAX_WATCHED = 10; // the gateway allows 10 subscriptions per socket

/**
 * Watch the sessions of my live sign-ups; ``onChange`` runs (at most once per burst) when one
 * of them changes after its first counts arrived.
 */
export function liveSignups(onChange) {
  const seen = new Map();
  let timer = null;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(), 150); // a cancellation and a promotion arrive together
  };
  const live = new LiveCounts((counts) => {
    const now = `${counts.seatsTaken}/${counts.capacity}/${counts.waitlistLength}/${counts.status}`;
    const before = seen.get(counts.sessionId);
    seen.set(counts.sessionId, now);
    if (before !== undefined && before !== now) changed();
  }, (connected) => { if (!connected) seen.clear(); });
  return {
    /**
     * The sign-ups as last loaded. Only waitlisted ones are watched live: they are the ones a
     * neighbour's cancellation moves, and each watch holds one of the gateway's limited live
     * listeners. Other news (a move, a call-off) comes with an inbox message (``onNewMessage``).
     */
    watch(signups) {
      const ids = signups
        .filter((s) => s.status === "WAITLISTED" && s.session?.status !== "CANCELLED")
        .map((s) => s.sessionId);
      const wanted = [...new Set(ids)].slice(0, MAX_WATCHED);
      for (const id of [...seen.keys()]) if (!wanted.includes(id)) seen.delete(id);
      if (!wanted.length && !live.socket) return;
      live.connect();
      live.watch(wanted);
    },
  };
}

const NEWEST = "{ myInbox(limit: 1) { id } }";

/**
 * A new inbox message (a session moved, a promotion, a cancellation) means 我的报名 may have
 * changed too, even where seat counts did not (a move): look every ``everyMs`` while the page is
 * in sight and call ``onNew`` when the newest message is not the one seen before.
 */
export function onNewMessage(gql, onNew, everyMs = 8000) {
  let newest;
  const look = async () => {
    if (document.hidden) return;
    const found = (await gql(NEWEST)).myInbox[0]?.id ?? null;
    if (newest !== undefined && found !== newest) onNew();
    newest = found;
  };
  const timer = setInterval(() => look().catch(() => {}), everyMs); // a failed look waits for the next
  look().catch(() => {});
  return () => clearInterval(timer);
}
