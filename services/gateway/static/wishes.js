// The wish wall for party members, volunteers and partner organisations: claim a resident's 微心愿,
// start it, and mark it done with a note. The wall shows a wish's building, never who made it.
import {
  allPages, ApiError, busy, el, fmtDateTime, gql, keyed, langSwitch, logOut, onLangChange, phoneLogIn,
  moreButton, pages, showError, showView, t, tIn, useStrings, whoAmI,
} from "/static/common.js";
import { CONTACT_FIELDS, claimExtras, plannedVisitField, startWishContact } from "/static/wishes-contact.js";
import { partyRegistration } from "/static/wishes-party.js";
import { certificatesCard } from "/static/certificates.js";
import { busyLabel } from "/static/busy-label.js";

const KINDS = ["VOLUNTEER", "PARTY_MEMBER", "PARTNER"];
const NOTE_MAX = 500;

useStrings({
  zh: {
    pageTitle: "邻里节 · 心愿墙", brand: "心愿墙", logOut: "退出", loading: "正在加载…",
    loginTitle: "志愿者登录", phone: "手机号", code: "验证码", logIn: "登录", community: "社区",
    intro: "居民的微心愿经社区审核后发布在这里。认领一个，办好后写下办理说明，居民确认后心愿就实现了。",
    needCommunity: "填写所在社区后，这里会显示社区的心愿墙。", toProfile: "去填写（邻里节 › 我的）",
    tabWall: "心愿墙", tabMine: "我认领的心愿", noWall: "心愿墙上暂时没有心愿。", noMine: "您还没有认领心愿。",
    wallPUBLISHED: "等待认领", wallCLAIMED: "已有人认领", wallDONE: "已办好", wallMET: "心愿已实现",
    mineCLAIMED: "已认领", mineDONE: "已办好，等待居民确认", mineMET: "居民已确认实现", started: "已开始办理",
    claim: "认领", claimAs: "认领身份", kindVOLUNTEER: "志愿者", kindPARTY_MEMBER: "在职党员", partyNote: "以在职党员认领，计入您双报到时登记的工作单位。",
    kindPARTNER: "共建单位成员", organisation: "共建单位名称（不填则为您加入的第一个单位）",
    confirmClaim: "确认认领", keep: "返回",
    claimed: (when) => `认领成功！请在 ${when} 前开始办理，否则心愿会回到心愿墙。`,
    startBy: (when) => `请在 ${when} 前开始办理，否则心愿会回到心愿墙。`,
    start: "开始办理", startedNow: "已开始办理，认领不会再过期。",
    note: "办理说明（居民会看到）", notePlaceholder: "例如：已上门更换轮胎，轮椅可以正常使用", finish: "标记已办好",
    finished: "已标记办好，等居民确认。谢谢您！", noteNeeded: "请写下办理说明（1到500个字）。",
    doneNote: (n) => `办理说明：${n}`, metOn: (when) => `${when} 居民确认实现`,
  },
  en: {
    pageTitle: "Linli · Wish wall", brand: "Wish wall", logOut: "Log out", loading: "Loading…",
    loginTitle: "Volunteer log-in", phone: "Mobile number", code: "Code", logIn: "Log in", community: "Community",
    intro: "Residents' small wishes, once the community has reviewed them. Take one up, write what you did when it is done, and the resident confirms it.",
    needCommunity: "Say which community you live in and its wish wall shows here.", toProfile: "Go to My details",
    tabWall: "Wish wall", tabMine: "My claims", noWall: "No wishes on the wall right now.", noMine: "You have not taken up a wish yet.",
    wallPUBLISHED: "Waiting for a helper", wallCLAIMED: "Taken up", wallDONE: "Done", wallMET: "Wish come true",
    mineCLAIMED: "Taken up", mineDONE: "Done; waiting for the resident", mineMET: "Confirmed by the resident", started: "Under way",
    claim: "Take it up", claimAs: "I take it up as", kindVOLUNTEER: "A volunteer", kindPARTY_MEMBER: "A party member", partyNote: "Counts for the work unit you registered with (双报到).",
    kindPARTNER: "A partner organisation's member", organisation: "Partner organisation (my first if left empty)",
    confirmClaim: "Take it up", keep: "Back",
    claimed: (when) => `It is yours! Start by ${when} or it goes back on the wall.`,
    startBy: (when) => `Start by ${when} or it goes back on the wall.`,
    start: "I have started", startedNow: "Under way: the claim no longer lapses.",
    note: "What you did (the resident sees this)", notePlaceholder: "e.g. Replaced the tyre; the wheelchair works again", finish: "Mark it done",
    finished: "Marked done; the resident will confirm. Thank you!", noteNeeded: "Write what you did (1 to 500 characters).",
    doneNote: (n) => `What was done: ${n}`, metOn: (when) => `Confirmed ${when}`,
  },
});

const WISH_FIELDS = "id category description building status claimExpiresAt startedAt doneNote metAt";
const WALL = `query($c: String!, $limit: Int!, $after: ID) { wishWall(communityId: $c, limit: $limit, after: $after) {
  ${WISH_FIELDS} } }`;
const MINE = `query($limit: Int!, $after: ID) { myClaimedWishes(limit: $limit, after: $after) {
  ${WISH_FIELDS} ${CONTACT_FIELDS} } }`;
const CLAIM = `mutation($input: ClaimWishInput!) { claimWish(input: $input) { ${WISH_FIELDS} } }`;
const START = `mutation($id: ID!) { startWish(wishId: $id) { ${WISH_FIELDS} } }`;
const FINISH = `mutation($input: FinishWishInput!) { finishWish(input: $input) { ${WISH_FIELDS} } }`;
const KIND_KEY = "linli.wishes.kind";

const $ = (id) => document.getElementById(id);
const state = { me: null, wall: [], mine: [], tab: "wall", claiming: null, notice: null };
const party = partyRegistration($("party"), (error) => reportError(error));
const certificates = certificatesCard($("certificates"), (error) => reportError(error));

function reportError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.code === "UNAUTHENTICATED") return start();
  showError($("app-error"), error);
  return undefined;
}

function say(notice) {
  state.notice = notice;
  $("notice").hidden = !notice;
  $("notice").textContent = notice ? notice() : "";
}

/** The wall, latest first, a page at a time (更多 for the next); a refresh reads as many as were shown. */
async function loadWall() {
  const community = $("community").value;
  $("wall-more").replaceChildren();
  if (!community) {
    state.wall = [];
    renderWall();
    return;
  }
  const list = pages(WALL, { c: community }, (d) => d.wishWall);
  const shown = state.wall.length;
  do await list.next(); while (!list.done && list.items.length < shown);
  const show = () => {
    state.wall = list.items;
    renderWall();
  };
  show();
  $("wall-more").replaceChildren(moreButton(list, show, $("wall-more-error")));
}

async function loadMine() {
  state.mine = await allPages(MINE, {}, (d) => d.myClaimedWishes);
  renderMine();
}

function wishHead(wish) {
  return [
    el("h3", {}, t(`cat${wish.category}`), " ", el("span", { class: "muted" }, wish.building)),
    el("p", {}, wish.description),
  ];
}

function renderWall() {
  const box = $("wall");
  if (!state.wall.length) {
    box.replaceChildren(el("p", { class: "note" }, t("noWall")));
    return;
  }
  box.replaceChildren(...state.wall.map((wish) => el("article", { class: "card wish", dataset: { wish: wish.id, status: wish.status } },
    wishHead(wish),
    el("p", {}, el("span", { class: `badge ${wish.status === "PUBLISHED" ? "wait" : "ok"}` }, t(`wall${wish.status}`))),
    wish.status === "PUBLISHED" ? claimPart(wish) : null)));
}

function claimPart(wish) {
  if (state.claiming !== wish.id) {
    return el("div", { class: "actions" }, el("button", { type: "button", onclick: () => { state.claiming = wish.id; renderWall(); } }, t("claim")));
  }
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const kind = el("select", { id: `kind-${wish.id}` }, KINDS.map((k) => el("option", { value: k }, t(`kind${k}`))));
  kind.value = localStorage.getItem(KIND_KEY) ?? "VOLUNTEER";
  const organisation = el("input", { id: `org-${wish.id}`, maxlength: 100 });
  const organisationPart = el("div", { hidden: kind.value !== "PARTNER" }, el("label", { for: organisation.id }, t("organisation")), organisation);
  const partyNote = el("p", { class: "note", hidden: kind.value !== "PARTY_MEMBER" }, t("partyNote"));
  kind.addEventListener("change", () => {
    organisationPart.hidden = kind.value !== "PARTNER";
    partyNote.hidden = kind.value !== "PARTY_MEMBER";
  });
  const visit = plannedVisitField(`visit-${wish.id}`);
  const confirm = el("button", { type: "button" }, t("confirmClaim"));
  confirm.addEventListener("click", () => busyLabel(confirm, error, async () => {
    const chosen = kind.value;
    const named = chosen === "PARTNER" ? organisation.value.trim() || null : null;
    // One key per wish and way of claiming: a lost answer is retried as the same claim.
    const claimed = await keyed(`claim-wish:${wish.id}:${chosen}:${named ?? ""}`, (key) =>
      gql(CLAIM, { input: { wishId: wish.id, kind: chosen, organisation: named, plannedVisitAt: visit.value(), idempotencyKey: key } }));
    localStorage.setItem(KIND_KEY, chosen);
    state.claiming = null;
    const expires = claimed.claimWish.claimExpiresAt;
    say(expires ? () => t("claimed", fmtDateTime(expires)) : null);
    await loadWall();
    showTab("mine");
  }));
  setTimeout(() => kind.focus(), 0);
  return el("div", { class: "choice" },
    el("label", { for: kind.id }, t("claimAs")), kind, partyNote, organisationPart, visit.node, error,
    el("div", { class: "actions" }, confirm,
      el("button", { type: "button", class: "quiet", onclick: () => { state.claiming = null; renderWall(); } }, t("keep"))));
}

function renderMine() {
  const box = $("mine");
  if (!state.mine.length) {
    box.replaceChildren(el("p", { class: "note" }, t("noMine")));
    return;
  }
  box.replaceChildren(...state.mine.map((wish) => {
    const underWay = wish.status === "CLAIMED" && Boolean(wish.startedAt);
    const badge = underWay ? t("started") : t(`mine${wish.status}`);
    return el("article", { class: "card wish", dataset: { wish: wish.id, status: wish.status } },
      wishHead(wish),
      el("p", {}, el("span", { class: `badge ${wish.status === "CLAIMED" ? "wait" : "ok"}` }, badge)),
      wish.doneNote ? el("p", {}, t("doneNote", wish.doneNote)) : null,
      wish.metAt ? el("p", { class: "muted" }, t("metOn", fmtDateTime(wish.metAt))) : null,
      wish.contact ? claimExtras(wish, { reload: () => Promise.all([loadMine(), loadWall()]), say }) : null,
      wish.status === "CLAIMED" ? workPart(wish, underWay) : null);
  }));
}

function workPart(wish, underWay) {
  const startError = el("p", { class: "error", role: "alert", hidden: true });
  const startButton = el("button", { type: "button", class: "secondary" }, t("start"));
  // Starting and finishing are idempotent on the server (the claimant's same step again changes
  // nothing), so a retry needs no idempotency key.
  startButton.addEventListener("click", () => busy(startButton, startError, async () => {
    await gql(START, { id: wish.id });
    say(() => t("startedNow"));
    await loadMine();
  }));
  const noteId = `note-${wish.id}`;
  const note = el("textarea", { id: noteId, rows: 3, maxlength: NOTE_MAX, placeholder: t("notePlaceholder") });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const finish = el("button", { type: "button" }, t("finish"));
  finish.addEventListener("click", () => busy(finish, error, async () => {
    const text = note.value.trim();
    if (!text) throw new ApiError("BAD_USER_INPUT", tIn("zh", "noteNeeded"), tIn("en", "noteNeeded"), false, "note");
    try {
      await gql(FINISH, { input: { wishId: wish.id, note: text } });
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === "BAD_USER_INPUT" && failure.field === "note") {
        throw new ApiError(failure.code, tIn("zh", "noteNeeded"), tIn("en", "noteNeeded"), false, "note");
      }
      throw failure;
    }
    say(() => t("finished"));
    await Promise.all([loadMine(), loadWall()]);
  }));
  return el("div", { class: "choice" },
    underWay ? null : el("p", { class: "note" }, t("startBy", fmtDateTime(wish.claimExpiresAt))),
    underWay ? null : el("div", {}, startError, el("div", { class: "actions" }, startButton)),
    el("label", { for: noteId }, t("note")), note, error,
    el("div", { class: "actions" }, finish));
}

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  (tab === "wall" ? loadWall : loadMine)().catch(reportError);
}

async function enterApp() {
  state.me = await whoAmI("id communities communityNames");
  showView("app");
  $("logout").hidden = false;
  const communities = state.me?.communities ?? [];
  $("need-community").hidden = communities.length > 0;
  $("need-community").replaceChildren(el("p", { class: "note" }, t("needCommunity"), " ", el("a", { href: "/" }, t("toProfile"))));
  $("community").replaceChildren(...communities.map((c, i) => el("option", { value: c }, state.me.communityNames[i])));
  $("community-choice").hidden = communities.length < 2;
  startWishContact(renderMine);
  party.start(communities, new Map(communities.map((c, i) => [c, state.me.communityNames[i]])));
  certificates.start(communities, new Map(communities.map((c, i) => [c, state.me.communityNames[i]])));
  showTab(state.tab);
}

async function start() {
  $("loading").hidden = true;
  const me = await whoAmI("id");
  if (!me) {
    state.me = null;
    $("logout").hidden = true;
    showView("login");
    return;
  }
  await enterApp();
}

langSwitch($("lang"));
onLangChange(() => {
  if (!state.me) return;
  if (state.notice) say(state.notice);
  renderWall();
  renderMine();
});
phoneLogIn($("login-form"), () => enterApp().catch(reportError));
$("logout").addEventListener("click", async () => { await logOut(); await start(); });
$("community").addEventListener("change", () => loadWall().catch(reportError));
for (const button of document.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => { say(null); showTab(button.dataset.tab); });
}
start().catch((error) => { $("loading").hidden = true; showView("app"); reportError(error); });
