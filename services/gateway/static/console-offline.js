// The organiser's view of what offline doors sent back: each conflict (a party let in twice, once
// offline) with both records side by side, never merged. Shown under a session's roster.
import { addStrings, el, fmtTime, gql, t } from "/static/common.js";

const STRINGS = {
  zh: {
    conflictsTitle: (n) => `离线签到冲突（${n}）`,
    conflictFirst: "先入场", conflictSecond: "后到的离线记录（未重复入场）",
    conflictRecord: (time, device, how) => `${time} · 设备尾号 ${device} · ${how}`,
    viaOverride: "人工放行（无离线许可）", viaLease: "持有离线许可", viaOnline: "在线扫码",
  },
  en: {
    conflictsTitle: (n) => `Offline check-in conflicts (${n})`,
    conflictFirst: "Let in first", conflictSecond: "Later offline record (not admitted again)",
    conflictRecord: (time, device, how) => `${time} · device …${device} · ${how}`,
    viaOverride: "manual override (no offline lease)", viaLease: "with the offline lease", viaOnline: "scanned online",
  },
};

const CONFLICTS = `query($s: ID!) { offlineConflicts(sessionId: $s) { id resident
  first { at deviceId override } second { at deviceId override } } }`;

function record(r) {
  const how = r.override ? t("viaOverride") : r.deviceId ? t("viaLease") : t("viaOnline");
  return t("conflictRecord", fmtTime(r.at), r.deviceId ? r.deviceId.slice(-4) : "—", how);
}

/** Fill ``box`` with the session's offline conflicts (nothing at all when there are none). */
export async function showConflicts(box, sessionId) {
  addStrings(STRINGS);
  const conflicts = (await gql(CONFLICTS, { s: sessionId })).offlineConflicts;
  box.replaceChildren(...(conflicts.length ? [
    el("h3", {}, t("conflictsTitle", conflicts.length)),
    ...conflicts.map((c) => el("article", { class: "card conflict", dataset: { conflict: c.id } },
      el("p", {}, el("strong", {}, c.resident)),
      el("p", {}, `${t("conflictFirst")}：${record(c.first)}`),
      el("p", {}, `${t("conflictSecond")}：${record(c.second)}`))),
  ] : []));
}
