// 三张清单: a community's resources, needs and projects. Organisers publish needs and projects,
// print the quarterly report for the 党建联席会议 (or take it as CSV) and close finished items
// (销号); partner units' members offer resources, claim project items (or a part) and report them done.
import {
  allPages, ApiError, busy, el, fmtDay, MAX_PAGE, gql, keyed, langSwitch, onLangChange, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";

useStrings({
  zh: {
    pageTitle: "三张清单", brand: "三张清单", loading: "正在加载…", community: "社区", needLogin: "请先在邻里议事会页面登录。",
    toCouncil: "去登录", resources: "资源清单", needs: "需求清单", projects: "项目清单", none: "暂无。",
    residentsNeeds: "居民反映的需求", newItem: "发布清单事项", kind: "清单", title: "事项", details: "说明（可不填）",
    dueOn: "完成期限（可不填）", publish: "发布", published: "已发布。", kindRESOURCE: "资源", kindNEED: "需求", kindPROJECT: "项目",
    claim: "认领", part: "认领其中一部分（可不填）", note: "完成说明", complete: "报告完成", close: "销号",
    claimedBy: (n, p) => (p ? `${n}认领：${p}` : `${n}认领`), due: (d) => `期限：${d}`,
    report: "季度报告（党建联席会议）", year: "年份", quarter: "季度", show: "生成报告", print: "打印", csv: "下载CSV",
    partner: "共建单位", claimed: "认领", done: "完成", overdue: "逾期", closed: "销号",
  },
  en: {
    pageTitle: "Three lists", brand: "Three lists", loading: "Loading…", community: "Community", needLogin: "Log in on the council page first.",
    toCouncil: "Log in", resources: "Resources", needs: "Needs", projects: "Projects", none: "None yet.",
    residentsNeeds: "What residents raised", newItem: "Publish an item", kind: "List", title: "Item", details: "Details (optional)",
    dueOn: "Due (optional)", publish: "Publish", published: "Published.", kindRESOURCE: "Resource", kindNEED: "Need", kindPROJECT: "Project",
    claim: "Claim", part: "Claim a part only (optional)", note: "What was done", complete: "Report done", close: "Close (销号)",
    claimedBy: (n, p) => (p ? `${n} took: ${p}` : `Claimed by ${n}`), due: (d) => `Due ${d}`,
    report: "Quarterly report (joint meeting)", year: "Year", quarter: "Quarter", show: "Make the report", print: "Print", csv: "Download CSV",
    partner: "Partner unit", claimed: "Claimed", done: "Done", overdue: "Overdue", closed: "Closed",
  },
});

const ITEM = "id kind title details dueOn status statusWords claims { partnerName part doneAt }";
const LISTS = `query($c: String!) { communityLists(communityId: $c) { resources(limit: ${MAX_PAGE}) { ${ITEM} }
  needs(limit: ${MAX_PAGE}) { ${ITEM} } projects(limit: ${MAX_PAGE}) { ${ITEM} } residentsNeeds { source building words statusWords } } }`;
const ONE_LIST = (field) => `query($c: String!, $limit: Int!, $after: ID) { communityLists(communityId: $c) {
  ${field}(limit: $limit, after: $after) { ${ITEM} } } }`;
const REPORT = `query($c: String!, $y: Int!, $q: Int!) { quarterlyReport(communityId: $c, year: $y, quarter: $q) {
  lines { partner claimed done overdue closed } csv } }`;
const $ = (id) => document.getElementById(id);
const state = { me: null, lists: null, report: null };
const organiser = () => state.me.roles.some((r) => ["organiser", "community_admin", "platform_admin"].includes(r));

function field(label, input) {
  input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return [el("label", { for: input.id }, label), input];
}

function action(label, work, cls = null) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const button = el("button", { type: "button", class: cls }, label);
  button.addEventListener("click", () => busy(button, error, work));
  return [button, error];
}

function itemCard(item) {
  const part = el("input", { maxlength: 80 });
  const note = el("input", { maxlength: 500 });
  const mutate = (query, variables) => async () => { await gql(query, variables()); await load(); };
  return el("article", { class: "card item", dataset: { item: item.id } },
    el("h3", {}, item.title, " ", el("span", { class: "badge" }, item.statusWords)),
    item.details ? el("p", {}, item.details) : null,
    item.dueOn ? el("p", { class: "note" }, t("due", fmtDay(item.dueOn))) : null,
    item.claims.length ? el("ul", {}, item.claims.map((c) => el("li", {}, t("claimedBy", c.partnerName, c.part)))) : null,
    item.kind === "PROJECT" && !organiser() && ["OPEN", "CLAIMED"].includes(item.status) ? el("div", {},
      ...field(t("part"), part),
      ...action(t("claim"), mutate("mutation($input: ClaimProjectItemInput!) { claimProjectItem(input: $input) { id } }",
        () => ({ input: { itemId: item.id, part: part.value } }))),
      ...field(t("note"), note),
      ...action(t("complete"), mutate("mutation($id: ID!, $n: String!) { completeClaim(itemId: $id, note: $n) { id } }",
        () => ({ id: item.id, n: note.value })), "secondary")) : null,
    item.status === "DONE" && organiser() ? el("div", {}, ...action(t("close"),
      mutate("mutation($id: ID!) { closeListItem(itemId: $id) { id } }", () => ({ id: item.id })))) : null);
}

function publishForm() {
  const kinds = organiser() ? ["PROJECT", "NEED", "RESOURCE"] : ["RESOURCE"];
  const kind = el("select", {}, kinds.map((k) => el("option", { value: k }, t(`kind${k}`))));
  const title = el("input", { maxlength: 80 });
  const details = el("input", { maxlength: 500 });
  const due = el("input", { type: "date" });
  return el("section", { class: "card" }, el("h2", {}, t("newItem")),
    ...field(t("kind"), kind), ...field(t("title"), title), ...field(t("details"), details), ...field(t("dueOn"), due),
    ...action(t("publish"), async () => {
      await keyed(`list-item:${$("community").value}`, (key) => gql(
        "mutation($input: PublishListItemInput!) { publishListItem(input: $input) { id } }",
        { input: { communityId: $("community").value, kind: kind.value, title: title.value, details: details.value, dueOn: due.value || null, idempotencyKey: key } }));
      $("notice").hidden = false;
      $("notice").textContent = t("published");
      await load();
    }, "wide"));
}

function reportPart() {
  const now = new Date();
  const year = el("input", { type: "number", value: now.getFullYear() });
  const quarter = el("select", {}, [1, 2, 3, 4].map((q) => el("option", { value: q, selected: q === Math.floor(now.getMonth() / 3) + 1 }, `Q${q}`)));
  const table = state.report ? el("table", {},
    el("tr", {}, ["partner", "claimed", "done", "overdue", "closed"].map((k) => el("th", {}, t(k)))),
    state.report.lines.map((l) => el("tr", {}, [l.partner, l.claimed, l.done, l.overdue, l.closed].map((v) => el("td", {}, v))))) : null;
  const download = state.report ? el("a", {
    href: `data:text/csv;charset=utf-8,${encodeURIComponent(`\ufeff${state.report.csv}`)}`,
    download: `quarterly-report-${year.value}-Q${quarter.value}.csv`,
  }, t("csv")) : null;
  return el("section", { class: "card report" }, el("h2", {}, t("report")),
    ...field(t("year"), year), ...field(t("quarter"), quarter),
    ...action(t("show"), async () => {
      state.report = (await gql(REPORT, { c: $("community").value, y: Number(year.value), q: Number(quarter.value) })).quarterlyReport;
      render();
    }, "secondary"),
    table, download, state.report ? el("button", { type: "button", onclick: () => window.print() }, t("print")) : null);
}

function render() {
  const { resources, needs, projects, residentsNeeds } = state.lists;
  const list = (key, items) => el("section", {}, el("h2", {}, t(key)), items.length ? items.map(itemCard) : el("p", { class: "note" }, t("none")));
  $("content").replaceChildren(...[
    organiser() ? reportPart() : null,
    publishForm(),
    list("projects", projects),
    list("needs", needs),
    residentsNeeds.length ? el("section", {}, el("h3", {}, t("residentsNeeds")), el("ul", {},
      residentsNeeds.map((n) => el("li", {}, `${n.source} · ${n.building}：${n.words}（${n.statusWords}）`)))) : null,
    list("resources", resources),
  ].filter(Boolean));
}

async function load() {
  try {
    const c = $("community").value;
    const lists = (await gql(LISTS, { c })).communityLists;
    // A list longer than one page (README.md, "Pages of a list") is read whole.
    for (const field of ["resources", "needs", "projects"]) {
      if (lists[field].length === MAX_PAGE) lists[field] = await allPages(ONE_LIST(field), { c }, (d) => d.communityLists[field]);
    }
    state.lists = lists;
    render();
    showError($("app-error"), null);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError($("app-error"), error, load);
  }
}

async function start() {
  langSwitch($("lang"));
  onLangChange(() => state.lists && render());
  state.me = await whoAmI("id roles communities").catch(() => null);
  $("loading").hidden = true;
  if (!state.me) return showView("login");
  showView("app");
  $("community").replaceChildren(...state.me.communities.map((c) => el("option", { value: c }, c)));
  $("community-choice").hidden = state.me.communities.length < 2;
  $("community").addEventListener("change", () => { state.report = null; load(); });
  return load();
}

start();
