// The door with no network: a session's offline kit (public keys, masked roster, revocations,
// the lease) kept in IndexedDB, tickets checked here by the same rules as the server
// (services/activities/signed_tickets.py, then the door's), admissions queued with idempotency
// keys and sent back in order when the network returns.
import { ApiError, addStrings, el, fmtTime, gql, t } from "/static/common.js";

const STRINGS = {
  zh: {
    offlineTitle: "断网时继续签到", offlinePrepare: "准备离线（下载名单与密钥，取得离线许可）",
    offlineRelease: "释放离线许可", offlineNone: "本场次还没有为断网做准备。",
    offlineReady: (n, until) => `已准备离线：名单 ${n} 份，本设备持有离线许可至 ${until}`,
    offlineNoLease: (n) => `已准备离线：名单 ${n} 份，但本设备没有离线许可（另一台设备持有）。断网时本设备不能放行，只能人工放行并记录。`,
    offlineNow: "已断网：正在离线核验", offlineCounts: (a, r, q) => `离线放行 ${a} 次，拒绝 ${r} 次，待同步 ${q} 条`,
    offlineAdmitted: (who, n, time) => `${time} 离线放行：${who}，共 ${n} 人（待同步）`,
    offlineOverridden: (time) => `${time} 人工放行，已记录（联网后核对）`,
    noLease: "本设备没有本场次的离线许可，不能离线放行。请让持有许可的设备扫码，或人工放行并记录。",
    override: "人工放行并记录", notPrepared: "本场次没有准备离线，断网时无法核验。",
    legacyOffline: "旧版入场码离线无法核验，请联网后再扫。",
    synced: (a, c, r) => `已同步：放行 ${a} 条，冲突 ${c} 条，拒绝 ${r} 条`,
    syncConflict: (who) => `冲突：${who} 已在别处入场，本设备的记录已报告给组织者`,
    alreadyHere: "这张票已在本设备放行过",
  },
  en: {
    offlineTitle: "Keep admitting without a network", offlinePrepare: "Prepare for offline (roster, keys, offline lease)",
    offlineRelease: "Release the offline lease", offlineNone: "This session is not prepared for offline use.",
    offlineReady: (n, until) => `Ready offline: ${n} tickets; this device holds the offline lease until ${until}`,
    offlineNoLease: (n) => `Ready offline: ${n} tickets, but this device has no offline lease (another device holds it). Offline it cannot admit, only record a manual override.`,
    offlineNow: "No network: checking tickets on this device", offlineCounts: (a, r, q) => `${a} admitted offline, ${r} refused, ${q} to send`,
    offlineAdmitted: (who, n, time) => `${time} admitted offline: ${who}, ${n} (to send)`,
    offlineOverridden: (time) => `${time} let in by manual override, recorded (checked on reconnect)`,
    noLease: "This device does not hold this session's offline lease, so it cannot admit offline. Send them to the device that holds it, or override by hand and record it.",
    override: "Override by hand and record", notPrepared: "This session was not prepared for offline use: tickets cannot be checked.",
    legacyOffline: "An old-style ticket cannot be checked offline; scan it again once online.",
    synced: (a, c, r) => `Sent: ${a} admitted, ${c} conflicts, ${r} refused`,
    syncConflict: (who) => `Conflict: ${who} was already let in elsewhere; reported to the organiser`,
    alreadyHere: "This ticket was already admitted on this device",
  },
};

const PREPARE = `query($s: ID!, $d: String!) { prepareOfflineDoor(sessionId: $s, deviceId: $d) {
  sessionId communityId title venue startsAt endsAt checkInOpensAt preparedAt
  keys { keyId communityId publicKey validUntil }
  roster { signupId resident partyNames partySize admitted }
  revocations { signupId reason } lease { deviceId mine expiresAt } } }`;
const ACQUIRE = "mutation($i: OfflineLeaseInput!) { acquireOfflineLease(input: $i) { deviceId mine expiresAt } }";
const RELEASE = "mutation($i: OfflineLeaseInput!) { releaseOfflineLease(input: $i) }";
const SYNC = `mutation($i: SyncOfflineAdmissionsInput!) { syncOfflineAdmissions(input: $i) {
  idempotencyKey outcome signupId people code messageZh messageEn } }`;
const BATCH = 50;  // a batch of signed codes stays well under the gateway's 64 KiB request limit

export function deviceId() {
  let id = localStorage.getItem("linli.deviceId");
  if (!id) {
    id = `door-${crypto.randomUUID()}`;
    localStorage.setItem("linli.deviceId", id);
  }
  return id;
}

// --- IndexedDB: kits by session, this device's admissions, the queue in order ---------------
let opened = null;
function db() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open("linli-door", 1);
    request.onupgradeneeded = () => {
      const base = request.result;
      base.createObjectStore("kits", { keyPath: "sessionId" });
      base.createObjectStore("admitted", { keyPath: "id" });
      base.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(store, mode, work) {
  const base = await db();
  return new Promise((resolve, reject) => {
    const tx = base.transaction(store, mode);
    let result;
    Promise.resolve(work(tx.objectStore(store))).then((r) => { result = r; });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
  });
}
const asked = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

// --- the code: LT + base32(version 2, key id, sign-up, session, expiry, Ed25519 signature) ----
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(text) {
  let bits = 0; let value = 0; const out = [];
  for (const char of text) {
    const index = B32.indexOf(char);
    if (index < 0) return null;
    value = (value << 5) | index; bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return new Uint8Array(out);
}
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const uuidOf = (bytes) => { const h = hex(bytes); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`; };
const fromB64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4)), (c) => c.charCodeAt(0));
const DOMAIN = new TextEncoder().encode("linli:ticket:v2:");

const refusal = (code, zh, en) => new ApiError(code, zh, en, false);
const REFUSALS = {
  INVALID_CODE: ["二维码无效", "This code is not valid"],
  UNKNOWN_TICKET_KEY: ["这张票不是本社区签发的（签名密钥不认识）", "This ticket was not signed by this community (unknown signing key)"],
  TICKET_KEY_EXPIRED: ["这张票的签名密钥已过期，请居民在手机上刷新入场码", "This ticket's signing key has expired; ask the resident to refresh the ticket"],
  TICKET_EXPIRED: ["这张票已过期", "This ticket has expired"],
  WRONG_SESSION: ["这张票不是本场次的", "This ticket is for another session"],
  TOO_EARLY: ["签到将于活动开始前60分钟开放", "Check-in opens 60 minutes before the session starts"],
};
const refused = (code) => refusal(code, ...REFUSALS[code]);
const REVOKED = { CANCELLED: ["报名已取消", "the sign-up was cancelled"], SESSION_CANCELLED: ["场次已取消", "the session was called off"] };

let ed = null;
async function verifier() {
  ed ??= await import("/vendor/ed25519.js");
  return ed;
}

/** The ticket a code names if it is genuine and current for ``kit``'s community: the server's order. */
export async function checkCode(code, kit, now = new Date()) {
  const text = code.trim().toUpperCase();
  const raw = text.startsWith("LT") ? base32(text.slice(2)) : null;
  if (raw && raw[0] === 1) throw refusal("LEGACY_OFFLINE", t("legacyOffline"), t("legacyOffline"));
  if (!raw || raw.length !== 103 || raw[0] !== 2) throw refused("INVALID_CODE");
  const body = raw.slice(0, 39); const signature = raw.slice(39);
  const view = new DataView(body.buffer);
  const keyId = view.getUint16(1);
  const key = kit.keys.find((k) => k.keyId === keyId && k.communityId === kit.communityId);
  if (!key) throw refused("UNKNOWN_TICKET_KEY");
  const message = new Uint8Array(DOMAIN.length + body.length);
  message.set(DOMAIN); message.set(body, DOMAIN.length);
  const genuine = await (await verifier()).verifyAsync(signature, message, fromB64(key.publicKey), { zip215: false });
  if (!genuine) throw refused("INVALID_CODE");
  if (key.validUntil && now > new Date(key.validUntil)) throw refused("TICKET_KEY_EXPIRED");
  if (now > new Date(view.getUint32(35) * 1000)) throw refused("TICKET_EXPIRED");
  return { keyId, signupId: uuidOf(body.slice(3, 19)), sessionId: uuidOf(body.slice(19, 35)) };
}

// --- the door -------------------------------------------------------------------------------
export class OfflineDoor {
  constructor(box, sessionOf, log) {
    addStrings(STRINGS);  // after the page's own useStrings
    Object.assign(this, { box, sessionOf, log, admitted: 0, refused: 0, pending: null, syncing: null });
    this.state = el("p", { class: "note", id: "offline-state", role: "status" });
    this.counts = el("p", { class: "muted", id: "offline-counts" });
    this.error = el("p", { class: "error", role: "alert", hidden: true });
    this.prepareButton = el("button", { type: "button", class: "secondary wide", id: "offline-prepare" }, t("offlinePrepare"));
    this.releaseButton = el("button", { type: "button", class: "quiet wide", id: "offline-release", hidden: true }, t("offlineRelease"));
    box.replaceChildren(el("h2", {}, t("offlineTitle")), this.state, this.counts, this.error, this.prepareButton, this.releaseButton);
    window.addEventListener("online", () => { this.show(); this.sync(); });
    window.addEventListener("offline", () => this.show());
  }

  offline() { return !navigator.onLine; }

  async kit(sessionId = this.sessionOf()) {
    return sessionId ? run("kits", "readonly", (s) => asked(s.get(sessionId))) : undefined;
  }

  /** Download the kit and take the lease; a lease held elsewhere is said in words, the kit kept. */
  async prepare() {
    const sessionId = this.sessionOf();
    const d = deviceId();
    let lease = null;
    try {
      lease = (await gql(ACQUIRE, { i: { sessionId, deviceId: d } })).acquireOfflineLease;
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "LEASE_HELD_ELSEWHERE") throw error;
    }
    const kit = (await gql(PREPARE, { s: sessionId, d })).prepareOfflineDoor;
    if (lease) kit.lease = lease;
    await run("kits", "readwrite", (s) => s.put(kit));
    await this.show();
  }

  async release() {
    const sessionId = this.sessionOf();
    await gql(RELEASE, { i: { sessionId, deviceId: deviceId() } });
    const kit = await this.kit(sessionId);
    if (kit) { kit.lease = null; await run("kits", "readwrite", (s) => s.put(kit)); }
    await this.show();
  }

  holdsLease(kit, now = new Date()) {
    return Boolean(kit?.lease?.mine && now < new Date(kit.lease.expiresAt));
  }

  async show() {
    const kit = await this.kit();
    const queued = await run("queue", "readonly", (s) => asked(s.count()));
    this.releaseButton.hidden = !this.holdsLease(kit);
    this.state.textContent = `${this.offline() ? `${t("offlineNow")} · ` : ""}${!kit ? t("offlineNone")
      : this.holdsLease(kit) ? t("offlineReady", kit.roster.length, fmtTime(kit.lease.expiresAt)) : t("offlineNoLease", kit.roster.length)}`;
    this.counts.textContent = t("offlineCounts", this.admitted, this.refused, queued);
    this.state.dataset.lease = this.holdsLease(kit) ? "mine" : "none";
  }

  /** Admit ``code`` offline for the chosen session, or say why not (an ApiError, as online). */
  async admit(code, overrideButton) {
    this.pending = null;
    overrideButton.hidden = true;
    try {
      await this.decide(code, overrideButton);
    } catch (error) {
      this.refused += 1;
      await this.show();
      throw error;
    }
  }

  async decide(code, overrideButton) {
    const sessionId = this.sessionOf();
    const kit = await this.kit(sessionId);
    if (!kit) throw refusal("NOT_PREPARED", t("notPrepared"), t("notPrepared"));
    const now = new Date();
    const ticket = await checkCode(code, kit, now);
    if (ticket.sessionId !== kit.sessionId) throw refused("WRONG_SESSION");
    const revoked = kit.revocations.find((r) => r.signupId === ticket.signupId);
    if (revoked) {
      const [zh, en] = REVOKED[revoked.reason] ?? ["票已作废", "the ticket was withdrawn"];
      throw refusal("TICKET_REVOKED", `这张票已作废：${zh}`, `This ticket is void: ${en}`);
    }
    if (now < new Date(kit.checkInOpensAt)) throw refused("TOO_EARLY");
    const entry = kit.roster.find((r) => r.signupId === ticket.signupId);
    const here = await run("admitted", "readonly", (s) => asked(s.get(`${sessionId}:${ticket.signupId}`)));
    if (here || (entry && entry.admitted >= entry.partySize)) {
      throw refusal("ALREADY_CHECKED_IN", t("alreadyHere"), t("alreadyHere"));
    }
    if (!this.holdsLease(kit, now)) {
      this.pending = { code, ticket, sessionId };
      overrideButton.hidden = false;
      throw refusal("NO_OFFLINE_LEASE", t("noLease"), t("noLease"));
    }
    await this.record(code, ticket, sessionId, false);
    const who = entry ? (entry.partyNames.length ? entry.partyNames.join("、") : entry.resident) : "—";
    this.log(t("offlineAdmitted", who, entry ? entry.partySize - entry.admitted : 1, fmtTime(now.toISOString())));
  }

  /** The person at the door decided to let the party in without the lease: kept, and checked on reconnect. */
  async override(overrideButton) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    overrideButton.hidden = true;
    await this.record(pending.code, pending.ticket, pending.sessionId, true);
    this.log(t("offlineOverridden", fmtTime(new Date().toISOString())));
  }

  async record(code, ticket, sessionId, override) {
    const d = deviceId();
    const scannedAt = new Date().toISOString();
    const base = await db();
    await new Promise((resolve, reject) => {
      const tx = base.transaction(["admitted", "queue"], "readwrite");
      tx.objectStore("admitted").put({ id: `${sessionId}:${ticket.signupId}`, at: scannedAt, override });
      tx.objectStore("queue").add({ code, sessionId, override, scannedAt, idempotencyKey: `offline:${d}:${sessionId}:${ticket.signupId}` });
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    this.admitted += 1;
    await this.show();
  }

  /** Send the queue in order, a batch at a time; each batch leaves the queue only once answered. */
  sync() {
    this.syncing ??= this.sendQueue().catch((error) => {
      if (error instanceof ApiError) { this.error.hidden = false; this.error.textContent = error.text(); } else throw error;
    }).finally(() => { this.syncing = null; this.show(); });
    return this.syncing;
  }

  async sendQueue() {
    const totals = { ADMITTED: 0, CONFLICT: 0, REFUSED: 0 };
    for (;;) {
      if (this.offline()) return;
      const items = await run("queue", "readonly", (s) => asked(s.getAll(null, BATCH)));
      if (!items.length) break;
      const admissions = items.map(({ code, sessionId, idempotencyKey, scannedAt, override }) => ({ code, sessionId, idempotencyKey, scannedAt, override }));
      const results = (await gql(SYNC, { i: { deviceId: deviceId(), admissions } })).syncOfflineAdmissions;
      for (const [index, result] of results.entries()) {
        totals[result.outcome] += 1;
        if (result.outcome !== "CONFLICT") continue;
        const kit = await this.kit(items[index].sessionId);
        const entry = kit?.roster.find((r) => r.signupId === result.signupId);
        this.log(t("syncConflict", entry?.resident ?? "—"));
      }
      await run("queue", "readwrite", (s) => { for (const item of items) s.delete(item.seq); });
    }
    if (totals.ADMITTED + totals.CONFLICT + totals.REFUSED) {
      this.log(t("synced", totals.ADMITTED, totals.CONFLICT, totals.REFUSED));
      this.box.dataset.synced = String(Number(this.box.dataset.synced ?? 0) + 1);
    }
  }
}
