// 邻里议事会 for residents and staff. A resident raises a concern about her building, follows it
// in words, answers invitations, carries out or supervises tasks and rates finished work. Staff
// triage concerns, convene a meeting at a station with invitees from the directory, record the
// minutes (a cost split must add up) and follow the tasks.
import {
  allPages, ApiError, busy, el, lang, fmtDateTime, fmtDay, gql, keyed, beijingInput, langSwitch, logOut, onLangChange,
  phoneLogIn, showError, showView, t, useStrings, whoAmI,
} from "/static/common.js";

useStrings({
  zh: {
    pageTitle: "邻里议事会", brand: "邻里议事会", logOut: "退出", loading: "正在加载…", loginTitle: "居民登录",
    phone: "手机号", code: "验证码", logIn: "登录", staffLoginTitle: "工作人员登录", username: "用户名", password: "密码",
    staffLogIn: "工作人员登录", community: "社区", boardLink: "查看社区晒事板", listsLink: "三张清单",
    raiseTitle: "听邻里说事：反映一个问题", building: "楼栋或地点", words: "遇到了什么问题", raise: "提交",
    raised: "已提交，网格员会尽快处理。", mineTitle: "我反映的事", noMine: "您还没有反映过问题。",
    invitationsTitle: "议事会邀请", accept: "能参加", decline: "不能参加", replied: (r) => (r === "ACCEPT" ? "已回复：能参加" : "已回复：不能参加"),
    tasksTitle: "我承办或监督的事项", noTasks: "暂无事项。", note: "办理进展", addNote: "记录进展", complete: "标记已办结",
    doneNote: "办结说明", rateTitle: "请邻里评事：给这件事打分", stars: "评分（1到5星）", comment: "评价（可不填）", rate: "提交评价",
    rated: "谢谢您的评价！", starsN: (n) => `${n}星`,
    forResident: "代居民反映", residentName: "居民姓名", unit: "单元", residentPhone: "居民手机号", raisedFor: (b) => `已代居民反映${b}的问题。`,
    tabConcerns: "待分办", tabMeetings: "议事会", tabTasks: "办理跟踪", noConcerns: "暂无待分办的问题。",
    toCouncil: "提交议事会", handled: "已直接处理", handledNote: "处理说明", duplicate: "重复问题", duplicateOf: "与哪件事重复",
    conveneTitle: "邀邻里议事：召集议事会", title: "议题", concerns: "议哪些事", when: "时间", station: "地点（驿站）",
    invitees: "邀请谁", convene: "发出邀请", convened: "议事会已召集，邀请已发出。", noToCouncil: "暂无待议的问题。",
    meetingsTitle: "议事会", minutes: "会议纪要", decision: "决定（做什么）", owner: "由谁办理", deadline: "办理期限",
    supervisor: "监督居民", total: "费用总额（元）", shares: "费用分摊", party: "承担方", amount: "金额（元）",
    hands: "举手表决（可不填，每行：户号 赞成/反对/弃权）", record: "保存纪要", recorded: "纪要已保存，事项已交办。",
    replies: "邀请回复", noReply: "未回复", overdue: "已逾期", residentsShare: "居民",
    taskLine: (o, d) => `承办：${o} · 期限：${d}`, costLine: (y) => `费用${y}元：`, shareLine: (p, y) => `${p} ${y}元`,
    rating: (n, s) => `${n}位居民评价，平均${s}星`, statusIs: (s) => `状态：${s}`,
  },
  en: {
    pageTitle: "Neighbourhood council", brand: "Neighbourhood council", logOut: "Log out", loading: "Loading…", loginTitle: "Residents' log-in",
    phone: "Mobile number", code: "Code", logIn: "Log in", staffLoginTitle: "Staff log-in", username: "Username", password: "Password",
    staffLogIn: "Staff log-in", community: "Community", boardLink: "See the community's board", listsLink: "Three lists",
    raiseTitle: "Tell us about a problem", building: "Building or place", words: "What is wrong", raise: "Send",
    raised: "Sent; the grid worker will look at it soon.", mineTitle: "My concerns", noMine: "You have not raised a concern yet.",
    invitationsTitle: "Council invitations", accept: "I will come", decline: "I cannot come", replied: (r) => (r === "ACCEPT" ? "Replied: coming" : "Replied: not coming"),
    tasksTitle: "Tasks I carry out or supervise", noTasks: "No tasks.", note: "Progress", addNote: "Add progress", complete: "Mark it done",
    doneNote: "What was done", rateTitle: "Rate the work", stars: "Stars (1 to 5)", comment: "Comment (optional)", rate: "Send rating",
    rated: "Thank you for rating!", starsN: (n) => `${n} stars`,
    forResident: "Raise it for a resident", residentName: "The resident's name", unit: "Unit", residentPhone: "The resident's mobile", raisedFor: (b) => `Raised for the resident of ${b}.`,
    tabConcerns: "To triage", tabMeetings: "Council", tabTasks: "Tasks", noConcerns: "Nothing to triage.",
    toCouncil: "Send to the council", handled: "Handled directly", handledNote: "What was done", duplicate: "A duplicate", duplicateOf: "Same as",
    conveneTitle: "Convene a council meeting", title: "Subject", concerns: "Concerns", when: "Time", station: "Place (station)",
    invitees: "Invite", convene: "Send invitations", convened: "Meeting convened; invitations sent.", noToCouncil: "No concerns waiting for the council.",
    meetingsTitle: "Meetings", minutes: "Minutes", decision: "Decision (what is done)", owner: "Carried out by", deadline: "Deadline",
    supervisor: "Supervising resident", total: "Cost total (yuan)", shares: "Cost split", party: "Party", amount: "Amount (yuan)",
    hands: "Show of hands (optional; one line each: household FOR/AGAINST/ABSTAIN)", record: "Save the minutes", recorded: "Minutes saved; tasks assigned.",
    replies: "Replies", noReply: "No reply yet", overdue: "Overdue", residentsShare: "Residents",
    taskLine: (o, d) => `By ${o} · due ${d}`, costLine: (y) => `Cost ${y} yuan: `, shareLine: (p, y) => `${p} ${y} yuan`,
    rating: (n, s) => `Rated by ${n} residents, ${s} stars on average`, statusIs: (s) => `Status: ${s}`,
  },
});

const TASK = `id concernId building decision ownerName deadline costTotalFen shares { party fen } status statusWords
  overdue doneNote notes { note createdAt } ratingCount averageStars votesFor votesAgainst`;
const CONCERN = `id building words status statusWords statusWordsEn triageNote createdAt tasks { ${TASK} }`;
const MEETING = `id title startsAt place minutes concerns { ${CONCERN} } invitations { id roleWords name reply }`;
const VOTES = { 赞成: "FOR", 反对: "AGAINST", 弃权: "ABSTAIN", FOR: "FOR", AGAINST: "AGAINST", ABSTAIN: "ABSTAIN" };
const $ = (id) => document.getElementById(id);
const yuan = (fen) => (fen / 100).toFixed(2);
const toFen = (text) => Math.round(Number.parseFloat(text || "0") * 100);
const state = { me: null, tab: "concerns", data: null };

function say(key) {
  $("notice").hidden = !key;
  $("notice").textContent = key ? t(key) : "";
}

function field(label, input) {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return [el("label", { for: id }, label), input];
}

function action(label, work, cls = null) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const button = el("button", { type: "button", class: cls }, label);
  button.addEventListener("click", () => busy(button, error, work));
  return [button, error];
}

function taskCard(task, { owner = false, rate = false } = {}) {
  const note = el("textarea", { maxlength: 500, rows: 2 });
  const stars = el("select", {}, [5, 4, 3, 2, 1].map((n) => el("option", { value: n }, t("starsN", n))));
  const comment = el("input", { maxlength: 200 });
  return el("div", { class: "card task", dataset: { task: task.id } },
    el("p", {}, el("strong", {}, task.decision)),
    el("p", { class: "note" }, t("taskLine", task.ownerName, fmtDay(task.deadline)), " · ", task.statusWords,
      task.overdue ? el("span", { class: "badge wait" }, t("overdue")) : null),
    task.costTotalFen ? el("p", { class: "note" }, t("costLine", yuan(task.costTotalFen)),
      task.shares.map((s) => t("shareLine", s.party, yuan(s.fen))).join("，")) : null,
    task.notes.length ? el("ul", {}, task.notes.map((n) => el("li", {}, n.note))) : null,
    task.doneNote ? el("p", {}, task.doneNote) : null,
    task.ratingCount ? el("p", { class: "note" }, t("rating", task.ratingCount, task.averageStars)) : null,
    owner && task.status !== "DONE" ? el("div", {},
      ...field(t("note"), note),
      ...action(t("addNote"), async () => {
        await keyed(`council-note:${task.id}`, (key) => gql(
          "mutation($input: TaskProgressInput!) { noteTaskProgress(input: $input) { id } }",
          { input: { taskId: task.id, note: note.value, idempotencyKey: key } }));
        await refresh();
      }, "secondary"),
      ...action(t("complete"), async () => {
        await gql("mutation($id: ID!, $n: String!) { completeTask(taskId: $id, note: $n) { id } }", { id: task.id, n: note.value });
        await refresh();
      })) : null,
    rate && task.status === "DONE" ? el("div", {}, el("h4", {}, t("rateTitle")),
      ...field(t("stars"), stars), ...field(t("comment"), comment),
      ...action(t("rate"), async () => {
        await gql("mutation($input: RateTaskInput!) { rateTask(input: $input) { id } }",
          { input: { taskId: task.id, stars: Number(stars.value), comment: comment.value } });
        say("rated");
        await refresh();
      })) : null);
}

// --- residents ---------------------------------------------------------------------------------

/** A list of the council's, every page of it (README.md, "Pages of a list"). */
function every(field, fields, args = {}) {
  const declared = Object.keys(args).map((name) => `$${name}: String!, `).join("");
  const passed = Object.keys(args).map((name) => `${name === "c" ? "communityId" : name}: $${name}, `).join("");
  return allPages(`query(${declared}$limit: Int!, $after: ID) { ${field}(${passed}limit: $limit, after: $after) { ${fields} } }`,
    args, (d) => d[field]);
}

async function loadResident() {
  const [data, myConcerns, myCouncilTasks, myCouncilInvitations] = await Promise.all([
    gql("{ me { building communityId } }"),
    every("myConcerns", CONCERN), every("myCouncilTasks", TASK),
    every("myCouncilInvitations", "id meetingTitle roleWords reply startsAt place"),
  ]);
  state.data = { ...data, myConcerns, myCouncilTasks, myCouncilInvitations };
}

function renderResident() {
  const { me, myConcerns, myCouncilInvitations, myCouncilTasks } = state.data;
  const building = el("input", { maxlength: 40, value: me.building || "" });
  const words = el("textarea", { maxlength: 500, rows: 3 });
  $("content").replaceChildren(...[
    el("section", { class: "card" }, el("h2", {}, t("raiseTitle")),
      ...field(t("building"), building), ...field(t("words"), words),
      ...action(t("raise"), async () => {
        await keyed("council-raise", (key) => gql(
          "mutation($input: RaiseConcernInput!) { raiseConcern(input: $input) { id } }",
          { input: { communityId: me.communityId, building: building.value, words: words.value, idempotencyKey: key } }));
        say("raised");
        await refresh();
      }, "wide")),
    myCouncilInvitations.length ? el("section", {}, el("h2", {}, t("invitationsTitle")),
      myCouncilInvitations.map((inv) => el("div", { class: "card" },
        el("p", {}, el("strong", {}, inv.meetingTitle), `（${inv.roleWords}）`),
        el("p", { class: "note" }, fmtDateTime(inv.startsAt), " · ", inv.place),
        inv.reply ? el("p", {}, t("replied", inv.reply)) : null,
        ...["ACCEPT", "DECLINE"].flatMap((r) => action(t(r === "ACCEPT" ? "accept" : "decline"), async () => {
          await gql("mutation($id: ID!, $r: InvitationReply!) { replyToInvitation(invitationId: $id, reply: $r) { id } }", { id: inv.id, r });
          await refresh();
        }, r === "ACCEPT" ? null : "secondary"))))) : null,
    myCouncilTasks.length ? el("section", {}, el("h2", {}, t("tasksTitle")),
      myCouncilTasks.map((task) => taskCard(task, { owner: true }))) : null,
    el("section", {}, el("h2", {}, t("mineTitle")),
      myConcerns.length ? myConcerns.map((c) => el("article", { class: "card concern", dataset: { concern: c.id } },
        el("h3", {}, c.building), el("p", {}, c.words),
        el("p", {}, el("span", { class: "badge" }, t("statusIs", lang() === "en" ? c.statusWordsEn : c.statusWords))),
        c.triageNote ? el("p", { class: "note" }, c.triageNote) : null,
        c.tasks.map((task) => taskCard(task, { rate: true })))) : el("p", { class: "note" }, t("noMine"))),
  ].filter(Boolean));
}

// --- staff -------------------------------------------------------------------------------------

async function loadStaff() {
  const c = $("community").value;
  const organiser = state.me.roles.some((r) => ["organiser", "community_admin", "platform_admin"].includes(r));
  const [data, communityConcerns, communityCouncilTasks, councilMeetings] = await Promise.all([
    gql(`query($c: String!) {
      ${organiser ? "councilInvitees(communityId: $c) { role roleWords name personId partnerId building }" : ""}
      community(id: $c) { stations { id name } } }`, { c }),
    every("communityConcerns", CONCERN, { c }), every("communityCouncilTasks", TASK, { c }),
    organiser ? every("councilMeetings", MEETING, { c }) : undefined,
  ]);
  state.data = { organiser, ...data, communityConcerns, communityCouncilTasks, ...(organiser ? { councilMeetings } : {}) };
}

function tabs() {
  const names = state.data.organiser ? ["concerns", "meetings", "tasks"] : ["concerns", "tasks"];
  return el("nav", { class: "tabs", role: "tablist" }, names.map((name) => el("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === name),
    onclick: () => { state.tab = name; renderStaff(); },
  }, t(`tab${name[0].toUpperCase()}${name.slice(1)}`))));
}

function triageCard(concern, all) {
  const note = el("input", { maxlength: 500 });
  const same = el("select", {}, all.filter((c) => c.id !== concern.id).map((c) => el("option", { value: c.id }, `${c.building}：${c.words.slice(0, 20)}`)));
  const triage = (how, extra = {}) => async () => {
    await gql("mutation($input: TriageConcernInput!) { triageConcern(input: $input) { id } }",
      { input: { concernId: concern.id, triage: how, ...extra } });
    await refresh();
  };
  return el("article", { class: "card concern", dataset: { concern: concern.id } },
    el("h3", {}, concern.building), el("p", {}, concern.words),
    el("p", { class: "note" }, fmtDateTime(concern.createdAt)),
    ...action(t("toCouncil"), triage("TO_COUNCIL")),
    ...field(t("handledNote"), note),
    ...action(t("handled"), () => triage("HANDLED", { note: note.value })(), "secondary"),
    same.options.length ? el("div", {}, ...field(t("duplicateOf"), same),
      ...action(t("duplicate"), () => triage("DUPLICATE", { duplicateOf: same.value })(), "secondary")) : null);
}

function forResidentForm() {
  const phone = el("input", { type: "tel", inputmode: "numeric", maxlength: 11 });
  const name = el("input", { maxlength: 20 });
  const building = el("input", { maxlength: 40 });
  const unit = el("input", { maxlength: 20 });
  const words = el("textarea", { maxlength: 500, rows: 2 });
  return el("section", { class: "card" }, el("h2", {}, t("forResident")),
    ...field(t("residentName"), name), ...field(t("residentPhone"), phone), ...field(t("building"), building),
    ...field(t("unit"), unit), ...field(t("words"), words),
    ...action(t("raise"), async () => {
      const community = $("community").value;
      const found = await gql("mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { id building } }",
        { input: { communityId: community, name: name.value.trim(), phone: phone.value.trim(), building: building.value, unit: unit.value } });
      await keyed(`council-raise-for:${found.residentByPhone.id}`, (key) => gql(
        "mutation($input: RaiseConcernInput!) { raiseConcern(input: $input) { id } }",
        { input: { communityId: community, building: building.value || found.residentByPhone.building, words: words.value,
          residentId: found.residentByPhone.id, idempotencyKey: key } }));
      await refresh();
      $("notice").hidden = false;
      $("notice").textContent = t("raisedFor", building.value || found.residentByPhone.building);
    }, "wide"));
}

function conveneForm() {
  const { communityConcerns, councilInvitees, community } = state.data;
  const waiting = communityConcerns.filter((c) => c.status === "TO_COUNCIL");
  if (!waiting.length) return el("p", { class: "note" }, t("noToCouncil"));
  const title = el("input", { maxlength: 80, value: `${waiting[0].building}议事会` });
  const when = el("input", { type: "datetime-local" });
  const station = el("select", {}, community.stations.map((s) => el("option", { value: s.id }, s.name)));
  const concernBoxes = waiting.map((c) => [c, el("input", { type: "checkbox", checked: waiting.length === 1 })]);
  const inviteeBoxes = councilInvitees.map((i) => [i, el("input", { type: "checkbox" })]);
  const checkbox = (box, label) => el("label", { class: "check" }, box, ` ${label}`);
  return el("section", { class: "card" }, el("h2", {}, t("conveneTitle")),
    ...field(t("title"), title),
    el("fieldset", {}, el("legend", {}, t("concerns")), concernBoxes.map(([c, box]) => checkbox(box, `${c.building}：${c.words}`))),
    ...field(t("when"), when), ...field(t("station"), station),
    el("fieldset", {}, el("legend", {}, t("invitees")), inviteeBoxes.map(([i, box]) =>
      checkbox(box, `${i.roleWords} · ${i.building ? `${i.building} ` : ""}${i.name}`))),
    ...action(t("convene"), async () => {
      await keyed(`council-convene:${$("community").value}`, (key) => gql(
        "mutation($input: ConveneCouncilMeetingInput!) { conveneCouncilMeeting(input: $input) { id } }",
        { input: {
          communityId: $("community").value, title: title.value, startsAt: beijingInput(when.value), stationId: station.value,
          concernIds: concernBoxes.filter(([, b]) => b.checked).map(([c]) => c.id),
          invitees: inviteeBoxes.filter(([, b]) => b.checked).map(([i]) => ({ role: i.role, personId: i.personId, partnerId: i.partnerId, name: i.name })),
          idempotencyKey: key,
        } }));
      say("convened");
      await refresh();
    }, "wide"));
}

function decisionFields(concern, owners) {
  const what = el("textarea", { maxlength: 500, rows: 2 });
  const owner = el("select", {}, owners.map((o, i) => el("option", { value: i }, `${o.roleWords} · ${o.name}`)));
  const deadline = el("input", { type: "date" });
  const supervisor = el("input", { maxlength: 40 });
  const total = el("input", { inputmode: "decimal" });
  const rows = [0, 1].map(() => [el("input", { maxlength: 40 }), el("input", { inputmode: "decimal" })]);
  owner.addEventListener("change", () => { rows[0][0].value = owners[owner.value]?.name ?? ""; });
  rows[0][0].value = owners[0]?.name ?? "";
  rows[1][0].value = t("residentsShare");
  const hands = el("textarea", { rows: 3 });
  const read = () => {
    const chosen = owners[owner.value];
    return {
      concernId: concern.id, decision: what.value, ownerName: chosen?.name ?? "", deadline: deadline.value,
      ownerPersonId: chosen?.personId ?? null, ownerPartnerId: chosen?.partnerId ?? null,
      supervisorName: supervisor.value || null, costTotalFen: toFen(total.value),
      shares: rows.filter(([p, a]) => p.value && a.value).map(([p, a]) => ({ party: p.value, fen: toFen(a.value) })),
      hands: hands.value.split("\n").map((line) => line.trim().split(/\s+/)).filter((w) => w.length >= 2)
        .map((w) => ({ household: w.slice(0, -1).join(""), vote: VOTES[w[w.length - 1]] ?? "ABSTAIN" })),
    };
  };
  const part = el("fieldset", { class: "decision" }, el("legend", {}, `${concern.building}：${concern.words}`),
    ...field(t("decision"), what), ...field(t("owner"), owner), ...field(t("deadline"), deadline),
    ...field(t("supervisor"), supervisor), ...field(t("total"), total),
    el("p", {}, t("shares")),
    rows.map(([p, a]) => el("div", { class: "row" }, ...field(t("party"), p), ...field(t("amount"), a))),
    ...field(t("hands"), hands));
  return [part, read];
}

function meetingCard(meeting) {
  const owners = state.data.councilInvitees.filter((i) => i.partnerId || i.role === "GRID_WORKER");
  const card = el("article", { class: "card meeting", dataset: { meeting: meeting.id } },
    el("h3", {}, meeting.title), el("p", { class: "note" }, fmtDateTime(meeting.startsAt), " · ", meeting.place),
    el("p", {}, t("replies")),
    el("ul", {}, meeting.invitations.map((i) => el("li", {}, `${i.roleWords} · ${i.name}：`,
      i.reply ? t("replied", i.reply) : t("noReply")))));
  if (meeting.minutes) {
    card.append(el("p", {}, el("strong", {}, `${t("minutes")}：`), meeting.minutes),
      ...meeting.concerns.flatMap((c) => c.tasks.map((task) => taskCard(task))));
    return card;
  }
  const minutes = el("textarea", { rows: 3, maxlength: 4000 });
  const decisions = meeting.concerns.map((c) => decisionFields(c, owners));
  card.append(...field(t("minutes"), minutes), ...decisions.map(([part]) => part),
    ...action(t("record"), async () => {
      await gql("mutation($input: RecordMinutesInput!) { recordMinutes(input: $input) { id } }",
        { input: { meetingId: meeting.id, minutes: minutes.value, decisions: decisions.map(([, read]) => read()).filter((d) => d.decision.trim()) } });
      say("recorded");
      await refresh();
    }, "wide"));
  return card;
}

function renderStaff() {
  const { communityConcerns, communityCouncilTasks, councilMeetings } = state.data;
  const raised = communityConcerns.filter((c) => c.status === "RAISED");
  let panel;
  if (state.tab === "concerns") {
    panel = raised.length ? raised.map((c) => triageCard(c, communityConcerns)) : [el("p", { class: "note" }, t("noConcerns"))];
    if (state.me.roles.some((r) => ["grid_worker", "platform_admin"].includes(r))) panel.push(forResidentForm());
  } else if (state.tab === "meetings") {
    panel = [conveneForm(), el("h2", {}, t("meetingsTitle")), ...councilMeetings.map(meetingCard)];
  } else {
    panel = communityCouncilTasks.length ? communityCouncilTasks.map((task) => taskCard(task, { owner: true })) : [el("p", { class: "note" }, t("noTasks"))];
  }
  $("content").replaceChildren(tabs(), ...panel);
}

// --- the page ------------------------------------------------------------------------------------

const isStaff = () => state.me.roles.some((r) => r !== "resident" && r !== "volunteer");

async function refresh() {
  try {
    if (isStaff()) {
      await loadStaff();
      renderStaff();
    } else {
      await loadResident();
      renderResident();
    }
    showError($("app-error"), null);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "UNAUTHENTICATED") return start();
    showError($("app-error"), error, refresh);
  }
  return undefined;
}

async function start() {
  $("loading").hidden = false;
  try {
    state.me = await whoAmI("id roles communities");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    $("loading").hidden = true;
    showView("login");
    showError(document.querySelector("#login-form .error"), error, start);
    return;
  }
  $("loading").hidden = true;
  if (!state.me) {
    showView("login");
    $("logout").hidden = true;
    return;
  }
  $("logout").hidden = false;
  showView("app");
  const communities = state.me.communities;
  $("community").replaceChildren(...communities.map((c) => el("option", { value: c }, c)));
  $("community-choice").hidden = !isStaff() || communities.length < 2;
  const names = await gql("{ communityDirectory { communities { id name } } }").catch(() => null);
  if (names) {
    const all = Object.fromEntries(names.communityDirectory.flatMap((s) => s.communities).map((c) => [c.id, c.name]));
    for (const option of $("community").options) option.textContent = all[option.value] ?? option.value;
  }
  $("board-link").href = `/board?c=${encodeURIComponent(communities[0] ?? "")}`;
  await refresh();
}

langSwitch($("lang"));
onLangChange(() => { if (state.data) (isStaff() ? renderStaff : renderResident)(); });
$("logout").addEventListener("click", async () => { await logOut(); await start(); });
$("community").addEventListener("change", () => {
  $("board-link").href = `/board?c=${encodeURIComponent($("community").value)}`;
  refresh();
});
phoneLogIn($("login-form"), start);
$("staff-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
    await gql("mutation($u: String!, $p: String!) { organiserLogIn(username: $u, password: $p) { me { id } } }",
      { u: $("username").value.trim(), p: $("password").value });
    $("password").value = "";
    await start();
  });
});
start();
