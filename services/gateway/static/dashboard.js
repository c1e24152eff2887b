// 工作看板: a community's, a street's or the city's counts over a period, for staff. Each figure
// is drawn here as inline SVG from the numbers (no chart library: bars, lines and sparklines of
// counts need a few dozen lines, SVG prints sharp on A4 and is on screen the moment the data is;
// README "工作看板"): bars per item, a line over the period, and a list of the stations with
// a sparkline each. The exact numbers are on hover (a tap on a phone) and in a table beside
// every chart; a CSV of every figure and line; a print layout for A4 landscape.
import { busy, el, gql, langSwitch, onLangChange, showError, showView, t, useStrings, whoAmI } from "/static/common.js";

// The figures this page has words for, in this order; any other figure the server sends is
// shown after them under its own name (bars, line and sparklines alike).
const FIGURES = ["signups_confirmed", "people_admitted", "volunteer_minutes", "wishes_posted", "wishes_claimed", "wishes_met"];
useStrings({
  zh: {
    pageTitle: "工作看板", brand: "工作看板", loading: "正在加载…", needLogin: "请先在邻里议事会页面以工作人员身份登录。",
    toCouncil: "去登录", scope: "范围", since: "开始日期", until: "结束日期", show: "显示", print: "打印", csv: "下载CSV",
    city: "全市", street: (n) => `${n}（街道）`, smallNote: "人数少于5时显示为“<5”，以免认出具体的人。",
    heading: (s, a, b) => `${s}：${a} 至 ${b}`, none: "这段时间没有记录。", community: "社区", label: "项目", value: "数值",
    signups_confirmed: "活动报名（已确认）", people_admitted: "到场人数", volunteer_minutes: "志愿服务时长（分钟）",
    wishes_posted: "微心愿发布", wishes_claimed: "微心愿认领", wishes_met: "微心愿实现", unlabelled: "（合计）",
    byItem: "各项目", overTime: { day: "逐日", week: "逐周", month: "逐月" }, step: { day: "日期", week: "自（周）", month: "月份" },
    stations: "各社区（站点）一览", stationsNote: "每格：这段时间的合计，小图为逐段变化。", chartNo: (n) => `图${n}：`,
    source: (n, s, a, b) => `${s} · ${a} 至 ${b}（图${n}）`, total: "合计", allOf: "全部",
    presets: "快速选择", thisMonth: "本月", lastMonth: "上月", thisQuarter: "本季度", lastQuarter: "上季度",
    thisYear: "今年", lastYear: "去年",
    csvHead: ["指标", "社区", "项目", "时段起", "数值", "说明"], of: (a, b) => `${a}：${b}`, others: (n) => `其余${n}项`,
    hiddenNote: "“—”：为保护隐私不显示。它与“<5”同在一个合计里，显示出来就能用合计减出那个少于5的人数。",
    smallWords: "少于5", hiddenWords: "为保护隐私不显示",
  },
  en: {
    pageTitle: "Dashboard", brand: "Dashboard", loading: "Loading…", needLogin: "Log in as staff on the council page first.",
    toCouncil: "Log in", scope: "Scope", since: "From", until: "To", show: "Show", print: "Print", csv: "Download CSV",
    city: "Whole city", street: (n) => `${n} (street)`, smallNote: "Counts under 5 read \u201c<5\u201d so nobody can be picked out.",
    heading: (s, a, b) => `${s}: ${a} to ${b}`, none: "Nothing recorded in this period.", community: "Community", label: "Item", value: "Count",
    signups_confirmed: "Sign-ups confirmed", people_admitted: "People admitted", volunteer_minutes: "Volunteer minutes",
    wishes_posted: "Wishes posted", wishes_claimed: "Wishes claimed", wishes_met: "Wishes met", unlabelled: "(total)",
    byItem: "by item", overTime: { day: "day by day", week: "week by week", month: "month by month" },
    step: { day: "Day", week: "Week from", month: "Month" },
    stations: "Communities (stations) at a glance", stationsNote: "Each cell: the period's total; the small line, step by step.",
    chartNo: (n) => `Fig. ${n}: `, source: (n, s, a, b) => `${s} · ${a} to ${b} (Fig. ${n})`, total: "Total", allOf: "All",
    presets: "Quick pick", thisMonth: "This month", lastMonth: "Last month", thisQuarter: "This quarter",
    lastQuarter: "Last quarter", thisYear: "This year", lastYear: "Last year",
    csvHead: ["figure", "community", "item", "from", "value", "note"], of: (a, b) => `${a}: ${b}`, others: (n) => `${n} others`,
    hiddenNote: "\u201c—\u201d: hidden to protect privacy. It shares a total with a \u201c<5\u201d: shown, the total less it would give that count away.",
    smallWords: "under 5", hiddenWords: "hidden to protect privacy",
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
// The rows per community and item (a city's year: thousands) only go into the CSV: asked for
// when it is downloaded, not before the charts (bench/README.md, "Dashboard").
const ROWS = `query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) { rows { figure communityName label value } } }`;
const DASHBOARD = `query($scope: DashboardScope!, $id: String, $since: Date!, $until: Date!) {
  dashboard(scope: $scope, id: $id, since: $since, until: $until) {
    totals { figure label value small hidden folded }
    series { grain starts lines { figure communityId communityName total values } } } }`;
const $ = (id) => document.getElementById(id);
const state = { answer: null, scopeWords: "", since: "", until: "" };
const SVG = "http://www.w3.org/2000/svg";
const isSmall = (value) => String(value).startsWith("<");
// A count hidden so that a "<5" beside it cannot be worked out from their sum (README "工作看板").
const HIDDEN = "—";
const isHidden = (value) => isSmall(value) || value === HIDDEN;
/** What a hidden value means, in words: for the tip, the table's title and the CSV. */
const hiddenWords = (value) => (value === HIDDEN ? t("hiddenWords") : isSmall(value) ? t("smallWords") : "");
const told = (value) => (value === HIDDEN ? `${HIDDEN}（${t("hiddenWords")}）` : fmt(value));
/** A value as read on screen and paper: 2,233,000 not 2233000; "<5", "—" and a median as they are. */
const GROUPED = new Intl.NumberFormat("en-US");  // one formatter: thousands of numbers for a city
const fmt = (value) => (isHidden(value) || !/^\d+$/.test(String(value)) ? value : GROUPED.format(Number(value)));

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** A figure's words; a figure this page does not know yet reads as its own name. */
function figureName(figure) {
  const word = t(figure);
  return word === figure ? figure.replaceAll("_", " ") : word;
}

function itemName(label) {
  if (!label) return t("unlabelled");
  const word = t(`cat${label}`);
  return word === `cat${label}` ? label : word;
}

function totalName(row) {
  return row.folded ? t("others", row.folded) : itemName(row.label);
}

function stepName(start, grain) {
  return grain === "month" ? start.slice(0, 7) : start.slice(5);
}

/** Charts drawn for a phone's width: the same numbers, bigger letters. */
const isNarrow = () => window.matchMedia("(max-width: 700px)").matches;

/** The top of a line chart's scale: 1, 2 or 5 times a power of ten, at least ``most``. */
function roundUp(most) {
  const power = 10 ** Math.floor(Math.log10(most));
  return [1, 2, 5, 10].map((k) => k * power).find((top) => top >= most);
}

/** An SVG path through the points, lifting the pen over each null (a "<5": not drawn). */
function pathOf(points) {
  let d = "", pen = false;
  for (const p of points) {
    if (!p) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return d;
}

const shorten = (text, most) => (text.length > most ? `${text.slice(0, most - 1)}…` : text);

/** The element a tap on a phone shows a chart's exact number in (a mouse sees the SVG title). */
function tip(text, x, y) {
  const box = $("tip");
  box.textContent = text;
  box.hidden = false;
  box.style.left = `${Math.max(4, Math.min(x - 60, window.innerWidth - 200)) + window.scrollX}px`;
  box.style.top = `${y + window.scrollY + 16}px`;
}

function tipped(node, text) {
  node.append(svg("title", {}, text));
  node.dataset.tip = text;
  return node;
}

/** Horizontal bars, one per item; a "<5" is a short pale bar of fixed length: its size is not
 * shown; a "—" (hidden to protect privacy) an empty dashed outline of the same length. The bar of the other items summed is grey and, when longer than the rest, cut at the
 * chart's edge (its number beside it): the items are what the chart compares. */
function barChart(totals, number, caption, footer) {
  const numbers = totals.map((r) => (isHidden(r.value) ? 0 : Number(r.value)));
  const most = Math.max(1, ...numbers.filter((_, i) => !totals[i].folded));
  const narrow = isNarrow(), rowHeight = 24, top = 24;
  const width = narrow ? 340 : 640, labelWidth = narrow ? 110 : 220, barRoom = width - labelWidth - 64;
  const height = top + totals.length * rowHeight + 24;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": caption },
    svg("text", { x: 0, y: 15, class: "caption" }, `${t("chartNo", number)}${caption}`));
  totals.forEach((row, i) => {
    const y = top + i * rowHeight, name = totalName(row);
    const length = isHidden(row.value) ? 12 : Math.max(1, Math.min(barRoom, (barRoom * numbers[i]) / most));
    const kind = row.value === HIDDEN ? "bar hidden" : isSmall(row.value) ? "bar small" : row.folded ? "bar others" : "bar";
    chart.append(
      svg("text", { x: labelWidth - 6, y: y + 16, "text-anchor": "end" }, shorten(name, narrow ? 8 : 24)),
      tipped(svg("rect", { class: kind, x: labelWidth, y: y + 3, width: length, height: rowHeight - 8 }),
        `${name}: ${told(row.value)}`),
      svg("text", { x: labelWidth + length + 4, y: y + 16 }, fmt(row.value)),
    );
  });
  chart.append(svg("text", { x: width, y: height - 6, "text-anchor": "end", class: "source" }, footer));
  return chart;
}

/** The scope's line over the period; a "<5" or "—" step is a gap with a pale hollow mark at the foot. */
function lineChart(line, starts, grain, caption, footer) {
  const narrow = isNarrow(), width = narrow ? 340 : 640, height = narrow ? 200 : 240;
  const left = 48, right = 16, top = 28, bottom = 54;
  const values = line.values.map((v) => (isHidden(v) ? null : Number(v)));
  const most = roundUp(Math.max(1, ...values.filter((v) => v !== null)));
  const x = (i) => left + (starts.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (starts.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / most);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": caption },
    svg("text", { x: 0, y: 15, class: "caption" }, caption));
  for (const v of most % 2 ? [0, most] : [0, most / 2, most]) {
    chart.append(
      svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, GROUPED.format(Math.round(v))),
    );
  }
  const every = Math.ceil(starts.length / (narrow ? 5 : 12));
  starts.forEach((start, i) => {
    if (i % every === 0 || i === starts.length - 1) {
      const anchor = starts.length > 1 && i === 0 ? "start" : starts.length > 1 && i === starts.length - 1 ? "end" : "middle";
      chart.append(svg("text", { x: x(i), y: height - bottom + 16, "text-anchor": anchor }, stepName(start, grain)));
    }
  });
  chart.append(svg("path", { d: pathOf(values.map((v, i) => (v === null ? null : [x(i), y(v)]))), class: "line" }));
  values.forEach((v, i) => {
    const words = `${stepName(starts[i], grain)}: ${told(line.values[i])}`;
    chart.append(tipped(v === null
      ? svg("circle", { cx: x(i), cy: y(0) - 4, r: 4, class: line.values[i] === HIDDEN ? "dot hidden" : "dot small" })
      : svg("circle", { cx: x(i), cy: y(v), r: starts.length > 40 ? 2.5 : 4, class: "dot" }), words));
  });
  chart.append(svg("text", { x: width, y: height - 6, "text-anchor": "end", class: "source" }, footer));
  return chart;
}

function sparkline(line, starts, grain, name) {
  const width = 96, height = 22;
  const values = line.values.map((v) => (isHidden(v) ? null : Number(v)));
  const most = Math.max(1, ...values.filter((v) => v !== null));
  const x = (i) => (starts.length === 1 ? width / 2 : 2 + (i * (width - 4)) / (starts.length - 1));
  const y = (v) => 2 + (height - 4) * (1 - v / most);
  const words = `${name}: ${starts.map((s, i) => `${stepName(s, grain)} ${fmt(line.values[i])}`).join(", ")}`;
  return tipped(svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "spark", role: "img", "aria-label": words },
    svg("rect", { x: 0, y: 0, width, height, class: "hit" }),
    svg("path", { d: pathOf(values.map((v, i) => (v === null ? null : [x(i), y(v)]))), class: "line" })), words);
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { class: i === cells.length - 1 ? "n" : null }, c))))));
}

/** A chart and its table, kept together on paper; under the table, what a "—" in it means. */
function block(kind, chart, tableNode, values) {
  const note = values.includes(HIDDEN) ? el("p", { class: "note hidden-note" }, t("hiddenNote")) : null;
  return el("div", { class: `block ${kind}` }, el("div", { class: "chart" }, chart), el("div", { class: "numbers" }, tableNode, note));
}

function figureSection(figure, totals, line, series, counter) {
  const name = figureName(figure);
  const footer = (n) => t("source", n, state.scopeWords, state.since, state.until);
  const section = el("section", { class: "figure", dataset: { figure } }, el("h3", {}, name));
  if (totals.length) {
    const n = ++counter.n;
    section.append(block("bars", barChart(totals, n, t("of", name, t("byItem")), footer(n)),
      table([t("label"), t("value")], totals.map((r) => [totalName(r), fmt(r.value)])), totals.map((r) => r.value)));
  }
  if (line) {
    const n = ++counter.n;
    const caption = `${t("chartNo", n)}${t("of", name, t("overTime")[series.grain])}`;
    section.append(block("line", lineChart(line, series.starts, series.grain, caption, footer(n)),
      table([t("step")[series.grain], t("value")], series.starts.map((s, i) => [stepName(s, series.grain), fmt(line.values[i])])),
      line.values));
  }
  return section;
}

function stationList(figures, series) {
  const byCommunity = new Map();
  for (const line of series.lines) {
    if (!line.communityId) continue;
    if (!byCommunity.has(line.communityId)) byCommunity.set(line.communityId, { name: line.communityName, lines: {} });
    byCommunity.get(line.communityId).lines[line.figure] = line;
  }
  const communities = [...byCommunity.values()].sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
  const head = el("tr", {}, el("th", {}, t("community")), figures.map((f) => el("th", {}, figureName(f))));
  const rows = communities.map((c) => el("tr", {}, el("th", { scope: "row" }, c.name), figures.map((f) => {
    const line = c.lines[f];
    return el("td", { class: "n" }, line ? [sparkline(line, series.starts, series.grain, `${c.name} · ${figureName(f)}`), " ", fmt(line.total)] : "0");
  })));
  const hiddenThere = series.lines.some((l) => l.communityId && figures.includes(l.figure) && [l.total, ...l.values].includes(HIDDEN));
  return el("section", { class: "stations", dataset: { figure: "stations" } },
    el("h3", {}, t("stations")), el("p", { class: "note" }, t("stationsNote")),
    hiddenThere ? el("p", { class: "note hidden-note" }, t("hiddenNote")) : null,
    el("div", { class: "scroll" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows))));
}

/** Every figure: the rows per community and item, then each line step by step. */
function csvOf(answer, rows) {
  const quote = (s) => `"${String(s).replaceAll('"', '""')}"`;
  const lines = [t("csvHead").map(quote).join(",")];
  for (const r of rows) lines.push([figureName(r.figure), r.communityName, itemName(r.label), "", r.value, hiddenWords(r.value)].map(quote).join(","));
  for (const line of answer.series.lines) {
    line.values.forEach((v, i) => {
      lines.push([figureName(line.figure), line.communityName || t("allOf"), "", answer.series.starts[i], v, hiddenWords(v)].map(quote).join(","));
    });
  }
  return `${lines.join("\r\n")}\r\n`;
}

function figuresOf(answer) {
  const seen = new Set([...answer.totals.map((r) => r.figure), ...answer.series.lines.map((l) => l.figure)]);
  return [...FIGURES.filter((f) => seen.has(f)), ...[...seen].filter((f) => !FIGURES.includes(f))];
}

function render() {
  const figures = $("figures");
  figures.replaceChildren();
  $("actions").replaceChildren();
  const answer = state.answer;
  if (!answer) return;
  $("heading").textContent = t("heading", state.scopeWords, state.since, state.until);
  const shown = figuresOf(answer);
  if (!shown.length) figures.append(el("p", { class: "note" }, t("none")));
  const counter = { n: 0 };
  for (const figure of shown) {
    const totals = answer.totals.filter((r) => r.figure === figure);
    const line = answer.series.lines.find((l) => l.figure === figure && !l.communityId);
    figures.append(figureSection(figure, totals, line, answer.series, counter));
  }
  const overTime = shown.filter((f) => answer.series.lines.some((l) => l.figure === f && l.communityId));
  if (overTime.length) figures.append(stationList(overTime, answer.series));
  const csvButton = el("button", { type: "button", onclick: () => busy(csvButton, $("csvError"), downloadCsv) }, t("csv"));
  $("actions").append(
    csvButton,
    " ",
    el("button", { type: "button", onclick: () => window.print() }, t("print")),
  );
}

async function downloadCsv() {
  const { since, until, scopeValue } = state;
  const [scope, id] = scopeValue.split(":");
  const rows = (await gql(ROWS, { scope, id: id || null, since, until })).dashboard.rows;
  const file = new Blob([`\ufeff${csvOf(state.answer, rows)}`], { type: "text/csv;charset=utf-8" });
  const link = el("a", { href: URL.createObjectURL(file), download: `dashboard-${since}-${until}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** Marks for bench/dashboard_reads.py: the data in, and the charts drawn (the frame after). */
function markRendered() {
  performance.mark("dashboard-data");
  render();
  requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("dashboard-rendered")));
}

function ask(scopeValue, since, until) {
  const [scope, id] = scopeValue.split(":");
  return gql(DASHBOARD, { scope, id: id || null, since, until });
}

// A dashboard opened from a link asks for its figures at once, beside who-am-I and the
// directory, not after them (bench/README.md, "Dashboard"); used if the form still says the same.
let early = null;

async function show() {
  const since = $("since").value, until = $("until").value, key = `${$("scope").value}|${since}|${until}`;
  const pending = early && early.key === key ? early.answer : ask($("scope").value, since, until);
  early = null;
  const data = await pending;
  data.dashboard.series.grain = data.dashboard.series.grain.toLowerCase();  // DAY -> day, as in the strings
  const scopeWords = $("scope").selectedOptions[0].textContent;
  Object.assign(state, { answer: data.dashboard, scopeWords, scopeValue: $("scope").value, since, until });
  history.replaceState(null, "", `?${new URLSearchParams({ scope: $("scope").value, since, until })}`);
  markRendered();
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

function redrawsWhenNarrowed() {
  window.matchMedia("(max-width: 700px)").addEventListener("change", render);
}

/** The periods a meeting asks for, from today (Beijing): [since, until] as "YYYY-MM-DD". */
function presetPeriods(today) {
  const [y, m] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
  const iso = (year, month, day) => new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);
  const monthEnd = (year, month) => iso(year, month + 1, 0);
  const q = Math.floor((m - 1) / 3) * 3 + 1;  // this quarter's first month
  return {
    thisMonth: [iso(y, m, 1), today],
    lastMonth: [iso(y, m - 1, 1), monthEnd(y, m - 1)],
    thisQuarter: [iso(y, q, 1), today],
    lastQuarter: [iso(y, q - 3, 1), monthEnd(y, q - 1)],
    thisYear: [iso(y, 1, 1), today],
    lastYear: [iso(y - 1, 1, 1), iso(y - 1, 12, 31)],
  };
}

function presetButtons(today) {
  const periods = presetPeriods(today);
  $("presets").replaceChildren(el("span", {}, t("presets")), ...Object.entries(periods).map(([name, [since, until]]) =>
    el("button", { type: "button", class: "quiet", onclick: () => {
      $("since").value = since;
      $("until").value = until;
      $("period").requestSubmit();
    } }, t(name))));
}

function tapsShowNumbers() {
  document.addEventListener("pointerdown", (event) => {
    const target = event.target.closest?.("[data-tip]");
    if (event.pointerType === "mouse" || !target) { $("tip").hidden = true; return; }
    tip(target.dataset.tip, event.clientX, event.clientY);
  });
}

async function start() {
  langSwitch($("lang"));
  onLangChange(render);
  tapsShowNumbers();
  redrawsWhenNarrowed();
  const asked = new URLSearchParams(location.search), today = beijingToday();
  if (asked.get("scope") && asked.get("since") && asked.get("until")) {
    early = { key: `${asked.get("scope")}|${asked.get("since")}|${asked.get("until")}` };
    early.answer = ask(asked.get("scope"), asked.get("since"), asked.get("until"));
    early.answer.catch(() => {});  // a refusal or a failure is shown when it is used, with a retry
  }
  const directory = gql(DIRECTORY);
  directory.catch(() => {});
  const me = await whoAmI("id roles communities").catch(() => null);
  $("loading").hidden = true;
  const staff = me && me.roles.some((r) => ["organiser", "community_admin", "platform_admin"].includes(r));
  if (!staff) return showView("login");
  showView("app");
  $("since").value = asked.get("since") || `${today.slice(0, 4)}-01-01`;
  $("until").value = asked.get("until") || today;
  presetButtons(today);
  onLangChange(() => presetButtons(today));
  const button = $("show");
  $("period").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, $("error"), show);
  });
  try {
    $("scope").replaceChildren(...scopeOptions(me, (await directory).communityDirectory));
    if (asked.get("scope") && [...$("scope").options].some((o) => o.value === asked.get("scope"))) $("scope").value = asked.get("scope");
  } catch (error) {
    return showError($("error"), error, start);
  }
  await busy(button, $("error"), show);
}

start();
