// The residents' mini-page: log in by phone, browse the festival, sign up (with family), cancel, inbox.
import { chosenCommunity, communityPicker } from "/static/community-picker.js";
import {
  ApiError, allPages, busy, dayOf, moreButton, pages, el, fmtDateTime, fmtDay, fmtTime, gql, keyed, lang, langSwitch, logOut,
  onLangChange, phoneLogIn, settle, showError, showView, t, tIn, useStrings, whoAmI, WISH_CATEGORIES,
} from "/static/common.js";
import { partyOf, partyPart } from "/static/resident-party.js";
import { myDataCard } from "/static/resident-privacy.js";
import { liveSignups, onNewMessage } from "/static/resident-live.js";
import { phaseBadge, sessionPhase, usePhaseStrings } from "/static/session-status.js";
import { TICKET_SHEET_FIELDS, ticketSheet } from "/static/ticket-sheet.js";
import { CLAIMANT_FIELDS, claimantLine } from "/static/wish-claimant.js";

const SEATS_REFRESH_MS = 20000;
const RELATIONS = ["SPOUSE", "CHILD", "PARENT", "GRANDPARENT", "GRANDCHILD", "SIBLING", "OTHER"];
const AGE_BANDS = ["CHILD", "TEEN", "ADULT", "SENIOR", "ELDER"];

useStrings({
  zh: {
    pageTitle: "邻里节 · 活动报名", brand: "邻里节", logOut: "退出", loading: "正在加载…",
    loginTitle: "手机号登录", phone: "手机号", code: "验证码", logIn: "登录",
    wechatLogIn: "微信授权登录", wechatLogInNote: "在微信里打开时，授权后即可登录；第一次需要再用手机号验证一次。",
    wechatFirstTime: "微信已授权。第一次请用手机号和验证码登录，以后在微信里打开就不用验证码了。",
    wechatFailed: "微信授权未成功，请重试，或用手机号和验证码登录。", wechatGoing: "正在跳转到微信…",
    tabActivities: "活动", tabSignups: "我的报名", tabInbox: "消息", tabFamily: "我的",
    tabInboxUnread: (n) => `消息 (${n})`,
    profileTitle: "我的资料", community: "所在社区", building: "楼栋", unit: "单元/门牌",
    prefsTitle: "通知设置", prefsNote: "站内消息始终开启。还可以选择：", chSMS: "短信", chEMAIL: "电子邮件",
    chWECHAT: "微信", smsPhone: "接收短信的手机号", email: "电子邮箱", wechat: "接收通知的微信账号",
    quietStart: "免打扰开始", quietEnd: "免打扰结束", saveProfile: "保存资料", savePrefs: "保存通知设置", saved: "已保存",
    quietNote: "免打扰时段内的提醒会推迟到结束后发送；紧急通知（如活动取消）除外。",
    festival: "节日", day: "日期", venue: "地点", all: "全部",
    hello: (name) => (name ? `您好，${name}` : "您好，欢迎参加邻里节"),
    noFestival: "暂时没有节日活动。", noActivities: "没有符合条件的活动。",
    seatsLeft: (n) => `剩余 ${n} 个名额`, full: (n) => `已满 · ${n} 人候补`,
    cancelled: "已取消", signUp: "报名", joinWaitlist: "排队候补",
    whoGoes: "谁参加？", me: "我本人", confirmSignUp: (n) => `确认报名（${n}人）`, confirmWaitlist: (n) => `排队候补（${n}人）`,
    statusCONFIRMED: "已报名", statusWAITLISTED: (n) => (n ? `候补第 ${n} 位` : "候补中"),
    statusCANCELLED: "已取消", statusPENDING: "处理中…",
    party: (n) => `共 ${n} 人`, cancelSignup: "取消报名", confirmCancel: "确认取消？",
    noSignups: "您还没有报名任何活动。", sessionCalledOff: (r) => `活动已取消：${r}`,
    noMessages: "暂无消息。", refresh: "刷新",
    familyTitle: "家庭成员", familyNote: "登记后，报名时可以一起为家人报名。", addMember: "添加家人",
    guardianConsent: "我是其监护人，同意登记这位未成年家人的信息",
    name: "姓名", relation: "关系", ageBand: "年龄段", add: "添加", remove: "删除", noMembers: "尚未登记家人。",
    relSPOUSE: "配偶", relCHILD: "子女", relPARENT: "父母", relGRANDPARENT: "祖父母/外祖父母",
    relGRANDCHILD: "孙辈", relSIBLING: "兄弟姐妹", relOTHER: "其他",
    ageCHILD: "儿童", ageTEEN: "青少年", ageADULT: "成年", ageSENIOR: "60岁以上", ageELDER: "80岁以上",
    signedUp: "报名成功！",
    waitlisted: (n) => `名额已满，您在候补第 ${n} 位。有人取消时，按排队先后自动为您递补，递补成功会发消息通知您，无需再操作。`,
    pending: "报名处理中，请稍候…",
    toCalendar: "加入手机日历", listSep: "、", opensAt: (when) => `${when} 开始报名`, closed: "报名已截止", partyLimit: (n) => `每次报名最多 ${n} 人`,
    showTicket: "出示入场码", hideTicket: "收起入场码", ticketAlt: "入场二维码",
    ticketNote: (n) => `入场时请向工作人员出示，可入场 ${n} 人`,
    tabWishes: "心愿", councilLink: "楼里有问题？到邻里议事会反映、跟进和评价", wishesTitle: "我的微心愿", newWish: "许一个微心愿", wishCategory: "心愿类别",
    wishesNote: "有需要帮忙的小事？写下来，社区审核后发布到心愿墙，由党员和志愿者认领。心愿墙只显示楼栋，不显示您的姓名和电话。",
    wishDescription: "心愿内容", wishPlaceholder: "例如：轮椅坏了，想请人帮忙修一修", postWish: "提交心愿",
    wishCount: (n, max) => `${n}/${max} 字`, wishPosted: "心愿已提交，社区审核通过后会发布到心愿墙。",
    noWishes: "您还没有许过心愿。", wishNeedCommunity: "请先在「我的」里填写所在社区和楼栋，再许心愿。",
    wishEmpty: "请写下您的心愿（1到200个字）。", wishTooLong: "心愿内容最多200个字。",
    wishNoBuilding: "请填写楼栋（最多20个字）。", wishBadCategory: "请选择心愿类别。",
    wishNotYourCommunity: "只能为您所在的社区许心愿：请先在「我的」里填写所在社区。",
    wishPOSTED: "待社区审核", wishAPPROVED: "审核通过，即将发布", wishDECLINED: "未通过审核",
    wishMERGED: "已与相同的心愿合并", wishPUBLISHED: "已发布到心愿墙，等待认领", wishCLAIMED: "已有人认领，正在办理",
    wishDONE: "已办好，请您确认", wishMET: "心愿已实现",
    declinedBecause: (r) => `原因：${r}`, doneNote: (n) => `办理说明：${n}`, metOn: (when) => `${when} 确认实现`,
    confirmWish: "确认已实现", wishConfirmed: "谢谢您的确认！",
  },
  en: {
    pageTitle: "Linli Festival · Sign-ups", brand: "Linli Festival", logOut: "Log out",
    loading: "Loading…", loginTitle: "Log in with your phone", phone: "Mobile number", code: "Code",
    logIn: "Log in", wechatLogIn: "Log in with WeChat",
    wechatLogInNote: "Inside WeChat, authorise and you are in; the first time, confirm your phone once.",
    wechatFirstTime: "WeChat authorised. This first time, log in with your phone and a code; next time in WeChat no code is needed.",
    wechatFailed: "WeChat authorisation did not succeed; try again, or log in with your phone and a code.",
    wechatGoing: "Going to WeChat…", tabActivities: "Activities", tabSignups: "Sign-ups", tabInbox: "Inbox",
    tabFamily: "Me", tabInboxUnread: (n) => `Inbox (${n})`,
    profileTitle: "My details", community: "Community", building: "Building", unit: "Unit / door",
    prefsTitle: "Notifications", prefsNote: "The in-app inbox is always on. Also tell me by:", chSMS: "Text message",
    chEMAIL: "E-mail", chWECHAT: "WeChat", smsPhone: "Mobile number for texts", email: "E-mail address",
    wechat: "WeChat account for messages", quietStart: "Quiet from", quietEnd: "Quiet until", saveProfile: "Save my details",
    savePrefs: "Save notification settings", saved: "Saved",
    quietNote: "Reminders due in quiet hours wait until they end; urgent news (a cancellation) does not.", festival: "Festival", day: "Day", venue: "Venue", all: "All",
    hello: (name) => (name ? `Hello, ${name}` : "Hello, welcome to the festival"),
    noFestival: "No festival yet.", noActivities: "No activities match.",
    seatsLeft: (n) => `${n} seats left`, full: (n) => `Full · ${n} waiting`,
    cancelled: "Cancelled", signUp: "Sign up", joinWaitlist: "Join waitlist",
    whoGoes: "Who is going?", me: "Me", confirmSignUp: (n) => `Confirm (${n} ${n === 1 ? "person" : "people"})`,
    confirmWaitlist: (n) => `Join the waitlist (${n} ${n === 1 ? "person" : "people"})`,
    statusCONFIRMED: "Signed up", statusWAITLISTED: (n) => (n ? `Waitlist #${n}` : "Waitlisted"),
    statusCANCELLED: "Cancelled", statusPENDING: "Processing…",
    party: (n) => `${n} ${n === 1 ? "person" : "people"}`, cancelSignup: "Cancel sign-up",
    confirmCancel: "Really cancel?", noSignups: "You have not signed up for anything yet.",
    sessionCalledOff: (r) => `Called off: ${r}`, noMessages: "No messages.", refresh: "Refresh",
    familyTitle: "Family members", familyNote: "Add your family to sign them up with you.",
    addMember: "Add a family member",
    guardianConsent: "I am their guardian and consent to this child's details being kept", name: "Name", relation: "Relation", ageBand: "Age",
    add: "Add", remove: "Remove", noMembers: "No family members yet.",
    relSPOUSE: "Spouse", relCHILD: "Child", relPARENT: "Parent", relGRANDPARENT: "Grandparent",
    relGRANDCHILD: "Grandchild", relSIBLING: "Sibling", relOTHER: "Other",
    ageCHILD: "Child", ageTEEN: "Teen", ageADULT: "Adult", ageSENIOR: "60+", ageELDER: "80+",
    signedUp: "You are signed up!",
    waitlisted: (n) => `Full: you are #${n} on the waitlist. When someone cancels, people move up in turn by themselves; you get a message when you do, with nothing more to do.`,
    pending: "Your sign-up is being processed…",
    toCalendar: "Add to my calendar", listSep: ", ", opensAt: (when) => `Sign-ups open ${when}`, closed: "Sign-ups closed",
    partyLimit: (n) => `At most ${n} people per sign-up`,
    showTicket: "Show my ticket", hideTicket: "Hide ticket", ticketAlt: "Ticket QR code",
    ticketNote: (n) => `Show this at the door; admits ${n}`,
    tabWishes: "Wishes", councilLink: "A problem in your building? Raise it with the neighbourhood council, follow it and rate it", wishesTitle: "My wishes", newWish: "Make a small wish", wishCategory: "Kind of wish",
    wishesNote: "A small thing you need help with? Write it down: once the community has reviewed it, it goes on the wish wall for party members and volunteers to take up. The wall shows your building only, never your name or phone.",
    wishDescription: "Your wish", wishPlaceholder: "e.g. My wheelchair is broken; could someone fix it?", postWish: "Post my wish",
    wishCount: (n, max) => `${n}/${max} characters`, wishPosted: "Wish posted: it goes on the wish wall once the community approves it.",
    noWishes: "You have not made a wish yet.", wishNeedCommunity: "First fill in your community and building under Me, then make a wish.",
    wishEmpty: "Please write your wish (1 to 200 characters).", wishTooLong: "A wish is at most 200 characters.",
    wishNoBuilding: "Please fill in your building (at most 20 characters).", wishBadCategory: "Please choose a kind of wish.",
    wishNotYourCommunity: "Wishes are for your own community: fill in your community under Me first.",
    wishPOSTED: "Waiting for the community's review", wishAPPROVED: "Approved; going on the wall soon", wishDECLINED: "Not approved",
    wishMERGED: "Merged with the same wish", wishPUBLISHED: "On the wish wall, waiting for a helper", wishCLAIMED: "Someone is on it",
    wishDONE: "Done: please confirm", wishMET: "Wish come true",
    declinedBecause: (r) => `Reason: ${r}`, doneNote: (n) => `What was done: ${n}`, metOn: (when) => `Confirmed ${when}`,
    confirmWish: "Confirm it was met", wishConfirmed: "Thank you for confirming!",
  },
});

usePhaseStrings();

const SESSION_FIELDS = `id activityId venue startsAt endsAt capacity seatsLeft waitlistLength status cancelReason
  registrationOpensAt registrationClosesAt maxPartySize`;
const ME = "{ me { id name phone communityId communityName building unit householdMembers { id name relation ageBand } } }";
const UPDATE_PROFILE = `mutation($communityId: String!, $building: String!, $unit: String!, $name: String!) {
  updateMyProfile(communityId: $communityId, building: $building, unit: $unit, name: $name) { id } }`;
const FESTIVALS = `query($limit: Int!, $after: ID) { festivals(limit: $limit, after: $after) {
  id name startsOn endsOn activities(limit: 200) { id title } } }`;
const FESTIVAL = `query($id: ID!) { festival(id: $id) { id name activities(limit: 200) {
  id title category description sessions(limit: 200) { ${SESSION_FIELDS} } } } }`;
const SIGNUP_FIELDS = `id sessionId status partySize waitlistPosition attendees { id name } session { ${SESSION_FIELDS} }`;
const MY_SIGNUPS = `query($limit: Int!, $after: ID) { mySignups(limit: $limit, after: $after) { ${SIGNUP_FIELDS} } }`;
const SIGNUP = `query($id: ID!) { signup(id: $id) { ${SIGNUP_FIELDS} } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${SIGNUP_FIELDS} } }`;
const CANCEL = `mutation($input: CancelSignupInput!) { cancelSignup(input: $input) { ${SIGNUP_FIELDS} } }`;
const TICKET = `query($id: ID!) { ticket(signupId: $id) { ${TICKET_SHEET_FIELDS} } }`;
const INBOX = "{ myInbox(limit: 50) { id kind title body titleEn bodyEn createdAt read } }";
const MARK_READ = "mutation($ids: [ID!]!) { markRead(ids: $ids) }";
const PREFS_FIELDS = "channels email phone wechatOpenId quietStart quietEnd";
const PREFS = `{ myNotificationPreferences { ${PREFS_FIELDS} } }`;
const SET_PREFS = `mutation($input: NotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) { ${PREFS_FIELDS} } }`;
const ADD_MEMBER = `mutation($name: String!, $relation: Relation!, $ageBand: AgeBand!, $guardian: Boolean!) {
  addHouseholdMember(name: $name, relation: $relation, ageBand: $ageBand, guardianConsent: $guardian) { id } }`;
// A child's details only with the guardian's consent (PIPL: under 14 is sensitive; TEEN spans 13).
const NEEDS_GUARDIAN = ["CHILD", "TEEN"];
const REMOVE_MEMBER = "mutation($id: ID!) { removeHouseholdMember(id: $id) }";
const WISH_FIELDS = `id category description building status declineReason doneNote metAt ${CLAIMANT_FIELDS}`;
const MY_WISHES = `query($limit: Int!, $after: ID) { myWishes(limit: $limit, after: $after) { ${WISH_FIELDS} } }`;
const POST_WISH = `mutation($input: PostWishInput!) { postWish(input: $input) { ${WISH_FIELDS} } }`;
const CONFIRM_WISH = `mutation($id: ID!) { confirmWish(wishId: $id) { ${WISH_FIELDS} } }`;
const WISH_MAX = 200;

const state = {
  me: null, festivals: [], festival: null, signups: [], inbox: [], titles: new Map(),
  tickets: new Map(), shownTicket: null, wishes: [], wishNotice: null, armedCancel: null, seen: new Set(), prefs: null, tab: "activities", openParty: null, notice: new Map(), tabTimer: null,
};
const appError = document.getElementById("app-error");
const $ = (id) => document.getElementById(id);

function reportError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.code === "UNAUTHENTICATED") return start();
  showError(appError, error);
  return undefined;
}

async function loadMe() {
  state.me = (await gql(ME)).me;
  $("hello").textContent = [t("hello", state.me.name), state.me.communityName].filter(Boolean).join(" · ");
}

async function loadFestivals() {
  state.festivals = await allPages(FESTIVALS, {}, (d) => d.festivals);
  state.titles = new Map(state.festivals.flatMap((f) => f.activities.map((a) => [a.id, a.title])));
  const wanted = new URLSearchParams(location.search).get("festival");
  const today = dayOf(new Date().toISOString());
  const current =
    state.festivals.find((f) => f.id === wanted) ??
    state.festivals.find((f) => f.endsOn >= today) ??
    state.festivals.at(-1);
  const select = $("festival");
  select.replaceChildren(...state.festivals.map((f) => el("option", { value: f.id }, f.name)));
  select.closest(".row").hidden = state.festivals.length < 2;
  if (current) select.value = current.id;
  await loadFestival();
}

async function loadFestival() {
  const id = $("festival").value;
  state.festival = id ? (await gql(FESTIVAL, { id })).festival : null;
  fillFilters();
  renderActivities();
}

/** 我的报名, latest first, a page at a time: a refresh reads again as many as were shown. */
async function loadSignups() {
  const list = pages(MY_SIGNUPS, {}, (d) => d.mySignups);
  do await list.next(); while (!list.done && list.items.length < state.signups.length);
  const shown = () => {
    state.signups = list.items;
    renderSignups();
    renderActivities();
    liveMine.watch(state.signups);
  };
  shown();
  $("signups-more").replaceChildren(moreButton(list, shown, $("signups-more-error")));
}

// A promotion, move or cancellation shows in 我的报名 at once, without a reload.
const liveMine = liveSignups(() => loadSignups().catch(reportError));

async function loadInbox() {
  state.inbox = (await gql(INBOX)).myInbox;
  renderInbox();
  const unread = state.inbox.filter((m) => !m.read && !state.seen.has(m.id)).map((m) => m.id);
  if (state.tab === "inbox" && unread.length) {
    // Shown is read: the highlight stays until the next refresh of the list.
    unread.forEach((id) => state.seen.add(id));
    await gql(MARK_READ, { ids: unread.slice(0, 200) });
  }
}

function renderUnread() {
  const unread = state.inbox.filter((m) => !m.read && !state.seen.has(m.id)).length;
  document.querySelector("[data-tab=inbox]").textContent = unread ? t("tabInboxUnread", unread) : t("tabInbox");
}

function allSessions() {
  return (state.festival?.activities ?? []).flatMap((a) => a.sessions);
}

function fillFilters() {
  const sessions = allSessions();
  const fill = (select, values, label) => {
    const previous = select.value;
    select.replaceChildren(
      el("option", { value: "" }, t("all")),
      ...values.map((v) => el("option", { value: v }, label(v))),
    );
    if (values.includes(previous)) select.value = previous;
  };
  fill($("day"), [...new Set(sessions.map((s) => dayOf(s.startsAt)))].sort(), fmtDay);
  fill($("venue"), [...new Set(sessions.map((s) => s.venue))].sort(), (v) => v);
}

function liveSignupFor(sessionId) {
  return state.signups.find((s) => s.sessionId === sessionId && s.status !== "CANCELLED");
}

function statusBadge(signup) {
  const kind = { CONFIRMED: "ok", WAITLISTED: "wait", PENDING: "wait", CANCELLED: "off" }[signup.status];
  return el("span", { class: `badge ${kind}`, dataset: { status: signup.status } },
    t(`status${signup.status}`, signup.waitlistPosition));
}

function seatsBadge(session) {
  if (session.status === "CANCELLED") return el("span", { class: "badge off" }, t("cancelled"));
  const phase = sessionPhase(session); // under way or over: seats no longer the news
  if (phase === "UNDERWAY" || phase === "ENDED") return el("span", { class: `badge ${phaseBadge(phase)}`, dataset: { phase } }, t(`phase${phase}`));
  return session.seatsLeft > 0
    ? el("span", { class: "badge ok", dataset: { seatsLeft: session.seatsLeft } }, t("seatsLeft", session.seatsLeft))
    : el("span", { class: "badge wait" }, t("full", session.waitlistLength));
}

function renderActivities() {
  const box = $("activities");
  if (!state.festival) {
    box.replaceChildren(el("p", { class: "note" }, t("noFestival")));
    return;
  }
  const day = $("day").value;
  const venue = $("venue").value;
  const cards = [];
  for (const activity of state.festival.activities) {
    const sessions = activity.sessions
      .filter((s) => (!day || dayOf(s.startsAt) === day) && (!venue || s.venue === venue))
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    if (!sessions.length) continue;
    cards.push(el("article", { class: "card activity", dataset: { activity: activity.id } },
      el("h3", {}, activity.title),
      activity.description ? el("p", { class: "muted" }, activity.description) : null,
      sessions.map(renderSession)));
  }
  box.replaceChildren(...(cards.length ? cards : [el("p", { class: "note" }, t("noActivities"))]));
}

function renderSession(session) {
  const mine = liveSignupFor(session.id);
  const notice = state.notice.get(session.id);
  const row = el("div", { class: "session", dataset: { session: session.id } },
    el("div", { class: "when" },
      el("strong", {}, `${fmtDateTime(session.startsAt)}–${fmtTime(session.endsAt)}`),
      el("span", { class: "muted" }, session.venue)),
    seatsBadge(session));
  const now = new Date().toISOString();
  const notYet = session.registrationOpensAt && session.registrationOpensAt > now;
  const closed = session.registrationClosesAt && session.registrationClosesAt <= now;
  if (mine) {
    row.append(statusBadge(mine));
  } else if (session.status === "SCHEDULED" && notYet) {
    row.append(el("span", { class: "badge wait" }, t("opensAt", fmtDateTime(session.registrationOpensAt))));
  } else if (session.status === "SCHEDULED" && closed) {
    row.append(el("span", { class: "badge off" }, t("closed")));
  } else if (session.status === "SCHEDULED") {
    row.append(el("button", {
      type: "button", class: session.seatsLeft > 0 ? "" : "secondary", "aria-expanded": String(state.openParty === session.id),
      onclick: () => { state.openParty = state.openParty === session.id ? null : session.id; renderActivities(); },
    }, session.seatsLeft > 0 ? t("signUp") : t("joinWaitlist")));
  }
  if (session.status === "CANCELLED" && session.cancelReason) {
    row.append(el("p", { class: "note" }, t("sessionCalledOff", session.cancelReason)));
  }
  if (notice) row.append(el("p", { class: notice.waitlisted ? "confirm waitlisted" : "confirm", role: "status" }, notice()));
  if (state.openParty === session.id && !mine) row.append(partyPicker(session));
  return el("div", {}, row);
}

function partyPicker(session) {
  const members = state.me.householdMembers;
  const boxes = members.map((m) => el("input", { type: "checkbox", value: m.id, checked: true }));
  const confirm = el("button", { type: "button", class: "wide" });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const count = () => 1 + boxes.filter((b) => b.checked).length;
  const tooMany = el("p", { class: "note", hidden: true });
  const waiting = session.seatsLeft <= 0; // joining the queue is not a sign-up: say so, and not in green
  if (waiting) confirm.className = "wide secondary";
  const relabel = () => {
    confirm.textContent = waiting ? t("confirmWaitlist", count()) : t("confirmSignUp", count());
    const over = count() > session.maxPartySize;
    confirm.disabled = over;
    tooMany.hidden = !over;
    tooMany.textContent = t("partyLimit", session.maxPartySize);
  };
  boxes.forEach((b) => b.addEventListener("change", relabel));
  relabel();
  confirm.addEventListener("click", () => busy(confirm, error, async () => {
    const attendeeIds = boxes.filter((b) => b.checked).map((b) => b.value).sort();
    const signup = await keyed(`signup:${session.id}:${attendeeIds.join(",")}`, async (key) => {
      const send = async () =>
        (await gql(SIGN_UP, { input: { sessionId: session.id, idempotencyKey: key, attendeeIds } })).signUp;
      // PENDING: ask again with the same key. That returns the stored answer once there is one —
      // a refusal too (raised here and shown), which polling signup(id) could never see.
      let answer = await send();
      for (let tries = 0; answer.status === "PENDING" && tries < 30; tries += 1) {
        state.notice.set(session.id, () => t("pending"));
        renderActivities();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        answer = await send();
      }
      return answer;
    });
    await settled(signup, session.id);
  }));
  return el("div", { class: "party" },
    el("h3", {}, t("whoGoes")),
    el("label", { class: "check" }, el("input", { type: "checkbox", checked: true, disabled: true }), t("me")),
    members.map((m, i) => el("label", { class: "check" }, boxes[i], `${m.name}（${t(`rel${m.relation}`)}）`)),
    tooMany, error, confirm);
}

/** Say where a sign-up landed; one still PENDING after a long wait is said to be in progress. */
async function settled(signup, sessionId) {
  const answer = {
    CONFIRMED: () => t("signedUp"),
    WAITLISTED: () => t("waitlisted", signup.waitlistPosition),
  }[signup.status] ?? (() => t("pending"));
  answer.waitlisted = signup.status === "WAITLISTED";
  state.notice.set(sessionId, answer);
  state.openParty = null;
  await Promise.all([loadSignups(), loadFestival()]);
}

function renderSignups() {
  const box = $("signups");
  const live = [...state.signups].sort((a, b) =>
    (a.status === "CANCELLED") - (b.status === "CANCELLED") ||
    (a.session?.startsAt ?? "").localeCompare(b.session?.startsAt ?? ""));
  if (!live.length) {
    box.replaceChildren(el("p", { class: "note" }, t("noSignups")));
    return;
  }
  box.replaceChildren(...live.map((signup) => {
    const session = signup.session;
    const card = el("article", { class: "card signup", dataset: { signup: signup.id } },
      el("h3", {}, state.titles.get(session?.activityId) ?? ""),
      session ? el("p", {}, `${fmtDateTime(session.startsAt)}–${fmtTime(session.endsAt)} · ${session.venue}`) : null,
      el("p", {}, statusBadge(signup), " ", el("span", { class: "muted" }, t("party", signup.partySize)),
        signup.attendees.length ? el("span", { class: "muted" }, ` · ${partyOf(signup, t("me")).map((p) => p.name).join(t("listSep"))}`) : null),
      session?.status === "CANCELLED" ? el("p", { class: "note" }, t("sessionCalledOff", session.cancelReason ?? "")) : null);
    card.append(partyPart(signup, state.me?.name, async (fetch) => {
      if (!fetch) return renderSignups();
      state.tickets.delete(signup.id); // the same ticket now admits fewer
      return Promise.all([loadSignups(), loadFestival()]);
    }));
    if (signup.status === "CONFIRMED") card.append(ticketPart(signup));
    if (signup.status === "CONFIRMED" || signup.status === "WAITLISTED") card.append(cancelButton(signup));
    return card;
  }));
}

/** The ticket QR, shown at the door: fetched when asked for, kept while the page lives. */
function ticketPart(signup) {
  const ticket = state.tickets.get(signup.id);
  const error = el("p", { class: "error", role: "alert", hidden: true });
  if (ticket && state.shownTicket === signup.id) {
    return ticketSheet(ticket,
      el("button", { type: "button", class: "quiet", onclick: () => { state.shownTicket = null; renderSignups(); } }, t("hideTicket")));
  }
  const button = el("button", { type: "button" }, t("showTicket"));
  button.addEventListener("click", () => busy(button, error, async () => {
    if (!state.tickets.has(signup.id)) {
      state.tickets.set(signup.id, (await gql(TICKET, { id: signup.id })).ticket);
    }
    state.shownTicket = signup.id;
    renderSignups();
  }));
  return el("div", {}, error, button);
}

function cancelButton(signup) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  // Elderly users mis-tap: a second, deliberate tap cancels. The state outlives a re-render.
  const armed = state.armedCancel === signup.id;
  const button = el("button", { type: "button", class: "secondary" }, armed ? t("confirmCancel") : t("cancelSignup"));
  button.addEventListener("click", () => {
    if (state.armedCancel !== signup.id) {
      state.armedCancel = signup.id;
      button.textContent = t("confirmCancel");
      return;
    }
    busy(button, error, async () => {
      await keyed(`cancel:${signup.id}`, (key) =>
        gql(CANCEL, { input: { signupId: signup.id, idempotencyKey: key } }));
      state.armedCancel = null;
      state.notice.delete(signup.sessionId);
      await Promise.all([loadSignups(), loadFestival()]);
    });
  });
  return el("div", {}, error, button);
}

function renderInbox() {
  const en = lang() === "en";
  const box = $("inbox");
  box.replaceChildren(...(state.inbox.length
    ? state.inbox.map((m) => el("article", { class: m.read ? "card message" : "card message unread", dataset: { kind: m.kind } },
        el("h3", {}, en ? m.titleEn : m.title),
        el("p", {}, en ? m.bodyEn : m.body),
        el("time", { datetime: m.createdAt }, fmtDateTime(m.createdAt))))
    : [el("p", { class: "note" }, t("noMessages"))]));
  renderUnread();
}

function renderMembers() {
  const members = state.me?.householdMembers ?? [];
  $("members").replaceChildren(...(members.length
    ? members.map((m) => {
        const error = el("p", { class: "error", role: "alert", hidden: true });
        const remove = el("button", { type: "button", class: "quiet" }, t("remove"));
        remove.addEventListener("click", () => busy(remove, error, async () => {
          await gql(REMOVE_MEMBER, { id: m.id });
          await loadMe();
          renderMembers();
        }));
        return el("div", { class: "card row member" },
          el("div", {}, el("strong", {}, m.name), " ",
            el("span", { class: "muted" }, `${t(`rel${m.relation}`)} · ${t(`age${m.ageBand}`)}`)),
          remove, error);
      })
    : [el("p", { class: "note" }, t("noMembers"))]));
}

let profileEdited = false; // what a person is typing is never overwritten by a late load
const communityChoice = communityPicker($("profile-community"), $("profile-building"));

function fillProfile() {
  const me = state.me;
  if (!me || profileEdited) return;
  communityChoice.show(me.communityId, me.communityName);
  // A station's QR poster fills in the community of someone who has not said where she lives.
  if (!me.communityId) communityChoice.fromPoster().catch(reportError);
  $("profile-name").value = me.name;
  $("profile-building").value = me.building;
  $("profile-unit").value = me.unit;
}

$("profile-form").addEventListener("input", () => { profileEdited = true; });
$("profile-form").addEventListener("community-chosen", () => { profileEdited = true; });
$("profile-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const done = form.querySelector("[role=status]");
  done.hidden = true;
  busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
    await gql(UPDATE_PROFILE, {
      name: $("profile-name").value.trim(), communityId: chosenCommunity($("profile-community")),
      building: $("profile-building").value.trim(), unit: $("profile-unit").value.trim(),
    });
    // A fresh token carries the new community (volunteer shifts are per community).
    await gql("mutation { refreshToken { expiresInS } }");
    await loadMe();
    profileEdited = false;
    done.hidden = false;
    done.textContent = t("saved");
  });
});

function fillMemberForm() {
  const keep = (select, values, prefix, fallback) => {
    const previous = select.value;
    select.replaceChildren(...values.map((v) => el("option", { value: v }, t(`${prefix}${v}`))));
    select.value = previous || fallback;
  };
  keep($("member-relation"), RELATIONS, "rel", "SPOUSE");
  keep($("member-age"), AGE_BANDS, "age", "ADULT");
}

const prefsForm = $("prefs-form");
const ADDRESS = { SMS: "prefs-phone", EMAIL: "prefs-email", WECHAT: "prefs-wechat" };

let prefsEdited = false;

async function loadPrefs() {
  state.prefs = (await gql(PREFS)).myNotificationPreferences;
  if (prefsEdited) return;
  const prefs = state.prefs;
  for (const box of prefsForm.querySelectorAll("[name=channel]")) box.checked = prefs.channels.includes(box.value);
  $("prefs-phone").value = prefs.phone ?? "";
  $("prefs-email").value = prefs.email ?? "";
  $("prefs-wechat").value = prefs.wechatOpenId ?? "";
  $("prefs-quiet-start").value = prefs.quietStart;
  $("prefs-quiet-end").value = prefs.quietEnd;
  showAddresses();
}

function showAddresses() {
  for (const box of prefsForm.querySelectorAll("[name=channel]")) {
    prefsForm.querySelector(`[data-for=${box.value}]`).hidden = !box.checked;
  }
}

prefsForm.addEventListener("change", showAddresses);
prefsForm.addEventListener("input", () => { prefsEdited = true; });
prefsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const done = prefsForm.querySelector("[role=status]");
  done.hidden = true;
  busy(prefsForm.querySelector("[type=submit]"), prefsForm.querySelector(".error"), async () => {
    const channels = [...prefsForm.querySelectorAll("[name=channel]:checked")].map((b) => b.value);
    const address = (channel) => (channels.includes(channel) ? $(ADDRESS[channel]).value.trim() || null : null);
    const data = await gql(SET_PREFS, { input: {
      channels, phone: address("SMS"), email: address("EMAIL"), wechatOpenId: address("WECHAT"),
      quietStart: $("prefs-quiet-start").value, quietEnd: $("prefs-quiet-end").value,
    } });
    state.prefs = data.setNotificationPreferences;
    prefsEdited = false;
    done.hidden = false;
    done.textContent = t("saved");
  });
});

// --- 微心愿 ------------------------------------------------------------------------------

const wishForm = $("wish-form");
const WISH_STATUS_BADGE = { DECLINED: "off", MERGED: "off", DONE: "wait", MET: "ok" };
/** The API's field-level refusals, said in the words of this form. */
const WISH_FIELD_TEXT = { description: "wishEmpty", building: "wishNoBuilding", category: "wishBadCategory", communityId: "wishNeedCommunity" };

/** A refusal in this page's own words, in both languages like the API's. */
function localRefusal(key, field) {
  return new ApiError("BAD_USER_INPUT", tIn("zh", key), tIn("en", key), false, field);
}

async function loadWishes() {
  state.wishes = await allPages(MY_WISHES, {}, (d) => d.myWishes);
  renderWishes();
}

let wishEdited = false;

function fillWishForm() {
  const select = $("wish-category");
  const previous = select.value;
  select.replaceChildren(...WISH_CATEGORIES.map((c) => el("option", { value: c }, t(`cat${c}`))));
  select.value = previous || WISH_CATEGORIES[0];
  const community = state.me?.communityId;
  $("wish-need-community").hidden = Boolean(community);
  $("wish-need-community").textContent = t("wishNeedCommunity");
  wishForm.querySelector("[type=submit]").disabled = !community;
  if (!wishEdited && state.me) $("wish-building").value = state.me.building ?? "";
  countWish();
}

function countWish() {
  $("wish-count").textContent = t("wishCount", [...$("wish-description").value].length, WISH_MAX);
}

function renderWishes() {
  fillWishForm();
  const box = $("wishes");
  if (!state.wishes.length) {
    box.replaceChildren(el("p", { class: "note" }, t("noWishes")));
    return;
  }
  box.replaceChildren(...state.wishes.map((wish) => {
    const card = el("article", { class: "card wish", dataset: { wish: wish.id, status: wish.status } },
      el("h3", {}, t(`cat${wish.category}`), " ", el("span", { class: "muted" }, wish.building)),
      el("p", {}, wish.description),
      el("p", {}, el("span", { class: `badge ${WISH_STATUS_BADGE[wish.status] ?? "wait"}`, dataset: { status: wish.status } }, t(`wish${wish.status}`))),
      wish.status === "DECLINED" && wish.declineReason ? el("p", { class: "note" }, t("declinedBecause", wish.declineReason)) : null,
      claimantLine(wish),
      wish.doneNote ? el("p", {}, t("doneNote", wish.doneNote)) : null,
      wish.metAt ? el("p", { class: "muted" }, t("metOn", fmtDateTime(wish.metAt))) : null,
      state.wishNotice?.id === wish.id ? el("p", { class: "confirm", role: "status" }, t(state.wishNotice.text)) : null);
    if (wish.status === "DONE") card.append(confirmWishButton(wish));
    return card;
  }));
}

function confirmWishButton(wish) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const button = el("button", { type: "button", class: "wide" }, t("confirmWish"));
  // Confirming is idempotent on the server (a met wish stays met): a retry needs no key.
  button.addEventListener("click", () => busy(button, error, async () => {
    await gql(CONFIRM_WISH, { id: wish.id });
    state.wishNotice = { id: wish.id, text: "wishConfirmed" };
    await loadWishes();
  }));
  return el("div", {}, error, button);
}

/** What the resident typed, checked here first so a slip is explained before anything is sent. */
function wishDraft() {
  const description = $("wish-description").value.trim();
  const building = $("wish-building").value.trim();
  if (!description) throw localRefusal("wishEmpty", "description");
  if ([...description].length > WISH_MAX) throw localRefusal("wishTooLong", "description");
  if (!building || [...building].length > 20) throw localRefusal("wishNoBuilding", "building");
  return { communityId: state.me.communityId, category: $("wish-category").value, description, building };
}

function reworded(error) {
  if (!(error instanceof ApiError)) return error;
  if (error.code === "BAD_USER_INPUT" && WISH_FIELD_TEXT[error.field]) return localRefusal(WISH_FIELD_TEXT[error.field], error.field);
  if (error.code === "FORBIDDEN") return localRefusal("wishNotYourCommunity", "communityId");
  return error;
}

$("wish-description").addEventListener("input", countWish);
wishForm.addEventListener("input", () => { wishEdited = true; settle("post-wish"); });
wishForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const done = wishForm.querySelector("[role=status]");
  done.hidden = true;
  busy(wishForm.querySelector("[type=submit]"), wishForm.querySelector(".error"), async () => {
    try {
      const input = wishDraft();
      // One key per wish as typed: a retry after a lost answer posts it once; an edit is a new wish.
      await keyed("post-wish", (key) => gql(POST_WISH, { input: { ...input, idempotencyKey: key } }));
    } catch (error) {
      throw reworded(error);
    }
    $("wish-description").value = "";
    wishEdited = false;
    done.hidden = false;
    done.textContent = t("wishPosted");
    await loadWishes();
  });
});

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  clearInterval(state.tabTimer);
  // "Posted" is news once: coming back to the tab later, the list below says where the wish is.
  if (tab === "wishes") wishForm.querySelector("[role=status]").hidden = true;
  const load = { activities: loadFestival, signups: loadSignups, wishes: loadWishes, inbox: loadInbox, family: async () => { fillProfile(); renderMembers(); await loadPrefs(); } }[tab];
  load().catch(reportError);
  // Messages arrive a moment after the action that caused them: keep the open inbox fresh.
  if (tab === "inbox") state.tabTimer = setInterval(() => loadInbox().catch(reportError), 4000);
  // Seats go while people look: refresh the list now and then, but never under an open choice.
  if (tab === "activities") {
    state.tabTimer = setInterval(() => {
      if (!state.openParty && !document.hidden) loadFestival().catch(reportError);
    }, SEATS_REFRESH_MS);
  }
}

function renderAll() {
  if (!state.me) return;
  $("hello").textContent = [t("hello", state.me.name), state.me.communityName].filter(Boolean).join(" · ");
  fillFilters();
  fillMemberForm();
  renderActivities();
  renderSignups();
  renderInbox();
  renderMembers();
  renderWishes();
}

async function enterApp() {
  showView("app");
  $("logout").hidden = false;
  fillMemberForm();
  await loadMe();
  await Promise.all([loadFestivals(), loadSignups(), loadInbox()]);
  showTab(state.tab);
  state.stopInboxWatch?.();
  state.stopInboxWatch = onNewMessage(gql, () => Promise.all([loadSignups(), loadInbox()]).catch(reportError));
}

// Back from WeChat's authorisation: the first time (prove the phone once; the server keeps the
// ticket in a cookie of this browser), or a failure.
const fromWeChat = new URLSearchParams(location.search);
let wechatLinking = fromWeChat.get("wechat") === "linking";
let wechatFailed = fromWeChat.get("wechat_failed");

async function offerWeChat() {
  $("wechat-first").hidden = !wechatLinking;
  $("wechat-failed").hidden = !wechatFailed;
  // Only inside WeChat's browser, and only where the deployment has an official account.
  if (wechatLinking || !/MicroMessenger/i.test(navigator.userAgent)) return;
  const data = await gql("{ wechatLogInAvailable }");
  $("wechat-login").hidden = !data.wechatLogInAvailable;
}

function forgetWeChatReturn() {
  if (wechatLinking || wechatFailed) history.replaceState(null, "", "/");
  wechatLinking = false;
  wechatFailed = null;
}

async function start() {
  $("loading").hidden = true;
  clearInterval(state.tabTimer);
  state.stopInboxWatch?.();
  const me = await whoAmI("id");
  if (!me) {
    state.me = null;
    $("logout").hidden = true;
    showView("login");
    await offerWeChat();
    return;
  }
  await enterApp();
}

langSwitch($("lang"));
onLangChange(renderAll);
phoneLogIn($("login-form"), () => { forgetWeChatReturn(); return enterApp().catch(reportError); });
document.querySelector("[data-action=wechat-log-in]").addEventListener("click", (event) => {
  event.target.disabled = true;
  event.target.textContent = t("wechatGoing");
  location.assign("/auth/wechat");
});
$("logout").addEventListener("click", async () => { await logOut(); await start(); });
for (const button of document.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}
$("festival").addEventListener("change", () => loadFestival().catch(reportError));
$("day").addEventListener("change", renderActivities);
$("venue").addEventListener("change", renderActivities);
$("member-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector("[type=submit]");
  busy(button, form.querySelector(".error"), async () => {
    const name = $("member-name");
    const guardian = $("member-guardian");
    await gql(ADD_MEMBER, {
      name: name.value.trim(), relation: $("member-relation").value, ageBand: $("member-age").value,
      guardian: guardian.checked,
    });
    name.value = "";
    guardian.checked = false;
    await loadMe();
    renderMembers();
  });
});
const showGuardian = () => { $("member-guardian-row").hidden = !NEEDS_GUARDIAN.includes($("member-age").value); };
$("member-age").addEventListener("change", showGuardian);
myDataCard($("my-data"), () => start());
start().catch((error) => { $("loading").hidden = true; showView("app"); reportError(error); });
