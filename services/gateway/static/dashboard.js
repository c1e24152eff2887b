// 工作看板: a community's, a street's or the city's counts over a period, for staff. Each figure
// is a bar chart drawn here as inline SVG from the numbers (no chart library: bars of counts
// need none, and SVG prints sharp), with the exact numbers on hover and in a table beside it,
// a CSV of every row, and a print layout for A4 landscape.
import { busy, el, gql, langSwitch, onLangChange, showError, showView, t, useStrings, whoAmI } from "/static/common.js";

const FIGURES = ["signups_confirmed", "people_admitted", "volunteer_minutes", "wishes_posted", "wishes_claimed", "wishes_met"];
useStrings({
  zh: {
    pageTitle: "工作看板", brand: "工作看板", loading: "正在加载…", needLogin: "请先在邻里议事会页面以工作人员身份登录。",
    toCouncil: "去登录", scope: "范围", since: "开始日期", until: "结束日期", show: "显示", print: "打印", csv: "下载CSV",
    city: "全市", street: (n) => `${n}（街道）`, smallNote: "人数少于5时显示为“<5”，以免认出具体的人。",
    heading: (s, a, b) => `${s}：${a} 至 ${b}`, none: "这段时间没有记录。", community: "社区", label: "项目", value: "数值",
    signups_confirmed: "活动报名（已确认）", people_admitted: "到场人数", volunteer_minutes: "志愿服务时长（分钟）",
    wishes_posted: "微心愿发布", wishes_claimed: "微心愿认领", wishes_met: "微心愿实现", unlabelled: "（合计）",
  },
  en: {
    pageTitle: "Dashboard", brand: "Dashboard", loading: "Loading…", needLogin: "Log in as staff on the council page first.",
    toCouncil: "Log in", scope: "Scope", since: "From", until: "To", show: "Show", print: "Print", csv: "Download CSV",
    city: "Whole city", street: (n) => `${n} (street)`, smallNote: "Counts under 5 read \u201c<5\u201d so nobody can be picked out.",
    heading: (s, a, b) => `${s}: ${a} to ${b}`, none: "Nothing recorded in this period.", community: "Community", label: "Item", value: "Count",
    signups_confirmed: "Sign-ups confirmed", people_admitted: "People admitted", volunteer_minutes: "Volunteer minutes",
    wishes_posted: "Wishes posted", wishes_claimed: "Wishes claimed", wishes_met: "Wishes met", unlabelled: "(total)",
  },
});

// The further figures of issue 25 (their rows come from the same query; see services/notify/dashboard.py).
import { addStrings } from "/static/common.js";
FIGURES.push("signed_up_by_category", "admitted_by_category", "no_shows_by_category", "signed_up_by_station",
  "admitted_by_station", "no_shows_by_station", "people_by_age_band", "party_member_minutes", "partner_minutes",
  "wishes_median_days_to_met", "items_claimed", "items_closed", "concerns_raised", "concerns_resolved");
addStrings({
  zh: {
    signed_up_by_category: "各类活动报名人数", admitted_by_category: "各类活动到场人数", no_shows_by_category: "各类活动爽约人数",
    signed_up_by_station: "各驿站报名人数", admitted_by_station: "各驿站到场人数", no_shows_by_station: "各驿站爽约人数",
    people_by_age_band: "邻里节参与人数（按年龄段）", party_member_minutes: "在职党员服务时长（分钟，按工作单位）",
    partner_minutes: "志愿服务时长（分钟，按共建单位）", wishes_median_days_to_met: "微心愿从发布到实现的天数（中位数）",
    items_claimed: "共建单位认领事项", items_closed: "共建单位销号事项", concerns_raised: "议事会收到的问题",
    concerns_resolved: "议事会解决的问题", "cat<18": "18岁以下", "cat18-59": "18–59岁", "cat60-79": "60–79岁",
    "cat80+": "80岁及以上", catunknown: "年龄不详",
  },
  en: {
    signed_up_by_category: "Signed up, per category", admitted_by_category: "Came, per category",
    no_shows_by_category: "No-shows, per category", signed_up_by_station: "Signed up, per station",
    admitted_by_station: "Came, per station", no_shows_by_station: "No-shows, per station",
    people_by_age_band: "Festival participants by age", party_member_minutes: "Party members' minutes, per work unit",
    partner_minutes: "Volunteer minutes, per partner", wishes_median_days_to_met: "Median days from wish to met",
    items_claimed: "Items claimed by partners", items_closed: "Items closed by partners", concerns_raised: "Concerns raised",
    concerns_resolved: "Concerns resolved", "cat<18": "Under 18", "cat18-59": "18–59", "cat60-79": "60–79",
    "cat80+": "80 and over", catunknown: "Age unknown",
  },
});

const DIRECTORY = "{ communityDirectory { streetId streetName communities { id name } } }";
const DASHBOARD = `query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) { rows { figure communityName label value small } } }`;
const $ = (id) => document.getElementById(id);
const state = { rows: null, scopeWords: "" };
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function labelOf(row, manyCommunities) {
  const label = row.label ? (t(`cat${row.label}`) !== `cat${row.label}` ? t(`cat${row.label}`) : row.label) : t("unlabelled");
  return manyCommunities ? `${row.communityName} · ${label}` : label;
}

/** Horizontal bars, one per row; a "<5" is a short pale bar of fixed length: its size is not shown. */
function barChart(rows, manyCommunities) {
  const numbers = rows.map((r) => (r.small ? 0 : Number(r.value)));
  const most = Math.max(1, ...numbers);
  const rowHeight = 24, labelWidth = 220, width = 640, barRoom = width - labelWidth - 60;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: "img" });
  rows.forEach((row, i) => {
    const y = i * rowHeight + 2, name = labelOf(row, manyCommunities);
    const length = row.small ? 12 : Math.max(1, (barRoom * numbers[i]) / most);
    chart.append(
      svg("text", { x: labelWidth - 6, y: y + 16, "text-anchor": "end" }, name.length > 24 ? `${name.slice(0, 23)}…` : name),
      svg("rect", { class: row.small ? "bar small" : "bar", x: labelWidth, y: y + 3, width: length, height: rowHeight - 8 },
        svg("title", {}, `${name}: ${row.value}`)),
      svg("text", { x: labelWidth + length + 4, y: y + 16 }, row.value),
    );
  });
  return chart;
}

function figureSection(figure, rows) {
  const many = new Set(rows.map((r) => r.communityName)).size > 1;
  const table = el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, t("community")), el("th", {}, t("label")), el("th", {}, t("value")))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", {}, r.communityName), el("td", {}, labelOf(r, false)), el("td", { class: "n" }, r.value)))));
  return el("section", { class: "figure", dataset: { figure } }, el("h3", {}, t(figure)), barChart(rows, many), table);
}

function csvOf(rows) {
  const quote = (s) => `"${String(s).replaceAll('"', '""')}"`;
  const lines = [["figure", "community", "item", "value"].join(",")];
  for (const r of rows) lines.push([t(r.figure), r.communityName, labelOf(r, false), r.value].map(quote).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

function render() {
  const figures = $("figures");
  figures.replaceChildren();
  $("actions").replaceChildren();
  if (!state.rows) return;
  $("heading").textContent = t("heading", state.scopeWords, $("since").value, $("until").value);
  const shown = FIGURES.filter((f) => state.rows.some((r) => r.figure === f));
  if (!shown.length) figures.append(el("p", { class: "note" }, t("none")));
  for (const figure of shown) figures.append(figureSection(figure, state.rows.filter((r) => r.figure === figure)));
  $("actions").append(
    el("a", {
      href: `data:text/csv;charset=utf-8,${encodeURIComponent(`\ufeff${csvOf(state.rows)}`)}`,
      download: `dashboard-${$("since").value}-${$("until").value}.csv`,
    }, t("csv")),
    " ",
    el("button", { type: "button", onclick: () => window.print() }, t("print")),
  );
}

async function show() {
  const [scope, id] = $("scope").value.split(":");
  const data = await gql(DASHBOARD, { scope, id: id || null, since: $("since").value, until: $("until").value });
  state.rows = data.dashboard.rows;
  state.scopeWords = $("scope").selectedOptions[0].textContent;
  render();
}

function scopeOptions(me, directory) {
  const admin = me.roles.includes("platform_admin");
  const mine = new Set(me.communities);
  const options = admin ? [el("option", { value: "CITY:" }, t("city"))] : [];
  for (const street of directory) {
    if (!street.streetId || !street.communities.length) continue;
    if (admin || street.communities.every((c) => mine.has(c.id))) {
      options.push(el("option", { value: `STREET:${street.streetId}` }, t("street", street.streetName)));
    }
  }
  for (const street of directory) {
    for (const c of street.communities) if (admin || mine.has(c.id)) options.push(el("option", { value: `COMMUNITY:${c.id}` }, c.name));
  }
  return options;
}

function beijingToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

async function start() {
  langSwitch($("lang"));
  onLangChange(render);
  const me = await whoAmI("id roles communities").catch(() => null);
  $("loading").hidden = true;
  const staff = me && me.roles.some((r) => ["organiser", "community_admin", "platform_admin"].includes(r));
  if (!staff) return showView("login");
  showView("app");
  const today = beijingToday();
  $("since").value = `${today.slice(0, 4)}-01-01`;
  $("until").value = today;
  const button = $("show");
  $("period").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, $("error"), show);
  });
  try {
    const directory = (await gql(DIRECTORY)).communityDirectory;
    $("scope").replaceChildren(...scopeOptions(me, directory));
  } catch (error) {
    return showError($("error"), error, start);
  }
  await busy(button, $("error"), show);
}

start();
