// 向邻里晒事: a community's concerns, the council's decisions, who pays what, progress and the
// residents' ratings — for anyone, logged in or not, and for paper. It names no resident.
import { ApiError, el, fmtDay, gql, lang, langSwitch, onLangChange, showError, t, useStrings } from "/static/common.js";

useStrings({
  zh: {
    pageTitle: "邻里晒事板", brand: "邻里晒事板", loading: "正在加载…", community: "社区", print: "打印",
    empty: "这个社区还没有需要晒的事。", raisedOn: (d) => `${d} 反映`, decision: "议事会决定",
    owner: (n) => `承办：${n}`, deadline: (d) => `期限：${d}`, cost: (y) => `费用：${y}元`,
    share: (p, y) => `${p}承担${y}元`, hands: (f, a) => `举手表决：${f}户赞成，${a}户反对`,
    progress: "办理进展", rating: (n, s) => `${n}位居民评价，平均${s}星`, noRating: "还没有居民评价",
    boardOf: (n) => `${n} · 邻里晒事板`,
  },
  en: {
    pageTitle: "Neighbourhood board", brand: "Neighbourhood board", loading: "Loading…", community: "Community", print: "Print",
    empty: "Nothing to show for this community yet.", raisedOn: (d) => `Raised ${d}`, decision: "The council decided",
    owner: (n) => `Carried out by ${n}`, deadline: (d) => `Deadline ${d}`, cost: (y) => `Cost ${y} yuan`,
    share: (p, y) => `${p} pays ${y} yuan`, hands: (f, a) => `Show of hands: ${f} households for, ${a} against`,
    progress: "Progress", rating: (n, s) => `Rated by ${n} residents, ${s} stars on average`, noRating: "Not rated yet",
    boardOf: (n) => `${n} · Neighbourhood board`,
  },
});

const BOARD = `query($c: String!) { publicBoard(communityId: $c) { communityName items {
  building words statusWords statusWordsEn raisedOn decisions { decision ownerName deadline costTotalFen
  shares { party fen } votesFor votesAgainst statusWords progress ratingCount averageStars } } } }`;
const DIRECTORY = "{ communityDirectory { communities { id name } } }";
const $ = (id) => document.getElementById(id);
const yuan = (fen) => (fen / 100).toFixed(2);
let board = null;

function decisionCard(d) {
  return el("div", { class: "card" },
    el("p", {}, el("strong", {}, `${t("decision")}：`), d.decision),
    el("p", { class: "note" }, `${t("owner", d.ownerName)} · ${t("deadline", fmtDay(d.deadline))} · ${d.statusWords}`),
    d.costTotalFen ? el("p", {}, t("cost", yuan(d.costTotalFen)), "（", d.shares.map((s) => t("share", s.party, yuan(s.fen))).join("，"), "）") : null,
    d.votesFor !== null ? el("p", { class: "note" }, t("hands", d.votesFor, d.votesAgainst)) : null,
    d.progress.length ? el("div", {}, el("p", {}, t("progress")), el("ul", {}, d.progress.map((p) => el("li", {}, p)))) : null,
    el("p", { class: "note" }, d.ratingCount ? t("rating", d.ratingCount, d.averageStars) : t("noRating")),
  );
}

function render() {
  if (!board) return;
  $("title").textContent = t("boardOf", board.communityName);
  $("board").replaceChildren(
    ...(board.items.length ? board.items.map((item) => el("article", { class: "card" },
      el("h2", {}, `${item.building} · ${lang() === "en" ? item.statusWordsEn : item.statusWords}`),
      el("p", {}, item.words),
      el("p", { class: "note" }, t("raisedOn", fmtDay(item.raisedOn))),
      item.decisions.map(decisionCard),
    )) : [el("p", { class: "note" }, t("empty"))]),
  );
}

async function load(community) {
  $("loading").hidden = false;
  showError($("error"), null);
  try {
    board = (await gql(BOARD, { c: community })).publicBoard;
    const url = new URL(location.href);
    url.searchParams.set("c", community);
    history.replaceState(null, "", url);
    render();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError($("error"), error, () => load(community));
  } finally {
    $("loading").hidden = true;
  }
}

async function start() {
  langSwitch($("lang"));
  onLangChange(render);
  $("print").addEventListener("click", () => window.print());
  const chosen = new URLSearchParams(location.search).get("c");
  try {
    const streets = (await gql(DIRECTORY)).communityDirectory;
    const all = streets.flatMap((s) => s.communities);
    $("community").replaceChildren(...all.map((c) => el("option", { value: c.id }, c.name)));
    if (chosen) $("community").value = chosen;
    $("choice").hidden = false;
    $("community").addEventListener("change", () => load($("community").value));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError($("error"), error, start);
  }
  if ($("community").value) await load($("community").value);
  else $("loading").hidden = true;
}

start();
