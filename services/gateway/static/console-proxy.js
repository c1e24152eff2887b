// The console's 代居民报名 card: a grid worker (网格员) finds or registers a resident who has no
// smartphone, adds their household, signs them up, prints their ticket and posts a wish for them.
// The API shows a grid worker masked names and phones only; so does this card.
import {
  addStrings, allPages, ApiError, busy, el, fmtDateTime, fmtTime, gql, keyed, settle, t, tIn, untilAnswered,
  WISH_CATEGORIES,
} from "/static/common.js";
import { contactFields, noSmsNote, residentSignups } from "/static/console-elders.js";
import { TICKET_SHEET_FIELDS, ticketSheet } from "/static/ticket-sheet.js";

const RELATIONS = ["SPOUSE", "CHILD", "PARENT", "GRANDPARENT", "GRANDCHILD", "SIBLING", "OTHER"];
const AGE_BANDS = ["CHILD", "TEEN", "ADULT", "SENIOR", "ELDER"];
const WISH_MAX = 200;

// Relations, age bands and the wish form say what the residents' own page says (resident.js).
const STRINGS = {
  zh: {
    proxyTitle: "代居民报名",
    proxyNote: "为没有智能手机的居民登记、报名、打印票券、许心愿。按电话查找，没有电话的按姓名和门牌查找；找不到时按所填资料新登记。",
    proxyPhone: "居民电话", proxyName: "居民姓名", proxyBuilding: "楼栋", proxyUnit: "单元/门牌",
    proxyFind: "查找或登记居民",
    proxyFound: (name, phone, building) => `已找到居民：${name}（${phone}，${building}）`,
    proxyCreated: (name, phone, building) => `新登记居民：${name}（${phone}，${building}）。报名结果会以短信通知。`,
    proxyNeverLoggedIn: "该居民尚未自己登录过。",
    proxyHousehold: "家庭成员", proxyNoMembers: "尚未登记家人。", proxyAddMember: "添加家人",
    proxyGuardian: "监护人已当面同意登记这位未成年家人的信息",
    proxyNoticeExplained: "新登记：已向居民说明《隐私告知》，居民同意登记",
    proxyMemberName: "家人姓名", relation: "关系", ageBand: "年龄段", add: "添加",
    relSPOUSE: "配偶", relCHILD: "子女", relPARENT: "父母", relGRANDPARENT: "祖父母/外祖父母",
    relGRANDCHILD: "孙辈", relSIBLING: "兄弟姐妹", relOTHER: "其他",
    ageCHILD: "儿童", ageTEEN: "青少年", ageADULT: "成年", ageSENIOR: "60岁以上", ageELDER: "80岁以上",
    proxySignUpTitle: "报名活动", proxySession: "场次", proxyNoSessions: "本社区暂时没有可报名的场次。",
    proxySeatsLeft: (n) => `剩余 ${n} 个名额`, proxyFull: (n) => `已满 · ${n} 人候补`,
    whoGoes: "谁参加？", proxyResidentSelf: (name) => `${name}（本人）`,
    proxySignUp: "代为报名", proxySignUpN: (n) => `代为报名（${n}人）`,
    proxyNobody: "请至少选择一位参加的人。",
    proxyCONFIRMED: (n) => `已确认：报名成功，共 ${n} 人。`,
    proxyWAITLISTED: (n) => `名额已满：已排入候补第${n}位，有人退出时自动递补，并通知居民本人。`,
    proxyPENDING: "报名处理中，请稍候…",
    proxyPrint: "打印票券", proxyPrintNow: "打印", proxyHideTicket: "收起票券", ticketAlt: "入场二维码",
    proxyTicketNote: (n) => `入场时向工作人员出示，可入场 ${n} 人`,
    proxyWishTitle: "代许愿",
    proxyWishNote: "替居民写下需要帮忙的小事；社区审核后发布到心愿墙，心愿墙只显示楼栋。",
    wishCategory: "心愿类别", wishDescription: "心愿内容", wishPlaceholder: "例如：轮椅坏了，想请人帮忙修一修",
    postWish: "提交心愿", wishCount: (n, max) => `${n}/${max} 字`,
    proxyWishPosted: "心愿已提交，社区审核通过后会发布到心愿墙。",
    wishEmpty: "请写下您的心愿（1到200个字）。", wishTooLong: "心愿内容最多200个字。",
    wishNoBuilding: "请填写楼栋（最多20个字）。", wishBadCategory: "请选择心愿类别。",
  },
  en: {
    proxyTitle: "Sign up a resident",
    proxyNote: "For residents without a smartphone: register, sign up, print the ticket, post a wish. Find them by phone (with no phone, by name and door); if there is no one, they are registered with these details.",
    proxyPhone: "Resident's phone", proxyName: "Resident's name", proxyBuilding: "Building", proxyUnit: "Unit / door",
    proxyFind: "Find or register the resident",
    proxyFound: (name, phone, building) => `Found: ${name} (${phone}, ${building})`,
    proxyCreated: (name, phone, building) => `Newly registered: ${name} (${phone}, ${building}). Answers reach them by text message.`,
    proxyNeverLoggedIn: "This resident has never logged in themselves.",
    proxyHousehold: "Household", proxyNoMembers: "No family members yet.", proxyAddMember: "Add a family member",
    proxyGuardian: "The guardian consented in person to this child's details being kept",
    proxyNoticeExplained: "Registering: I explained the privacy notice and the resident agreed",
    proxyMemberName: "Family member's name", relation: "Relation", ageBand: "Age", add: "Add",
    relSPOUSE: "Spouse", relCHILD: "Child", relPARENT: "Parent", relGRANDPARENT: "Grandparent",
    relGRANDCHILD: "Grandchild", relSIBLING: "Sibling", relOTHER: "Other",
    ageCHILD: "Child", ageTEEN: "Teen", ageADULT: "Adult", ageSENIOR: "60+", ageELDER: "80+",
    proxySignUpTitle: "Sign up for a session", proxySession: "Session", proxyNoSessions: "No session of this community is open for sign-up.",
    proxySeatsLeft: (n) => `${n} seats left`, proxyFull: (n) => `Full · ${n} waiting`,
    whoGoes: "Who is going?", proxyResidentSelf: (name) => `${name} (the resident)`,
    proxySignUp: "Sign them up", proxySignUpN: (n) => `Sign them up (${n} ${n === 1 ? "person" : "people"})`,
    proxyNobody: "Tick at least one person who is going.",
    proxyCONFIRMED: (n) => `Confirmed: signed up, ${n} ${n === 1 ? "person" : "people"}.`,
    proxyWAITLISTED: (n) => `Full: #${n} on the waitlist; they move up by themselves and are told.`,
    proxyPENDING: "The sign-up is being processed…",
    proxyPrint: "Print ticket", proxyPrintNow: "Print", proxyHideTicket: "Hide ticket", ticketAlt: "Ticket QR code",
    proxyTicketNote: (n) => `Show this at the door; admits ${n}`,
    proxyWishTitle: "Post a wish for this resident",
    proxyWishNote: "Write down a small thing they need help with: once the community has reviewed it, it goes on the wish wall, which shows the building only.",
    wishCategory: "Kind of wish", wishDescription: "The wish", wishPlaceholder: "e.g. My wheelchair is broken; could someone fix it?",
    postWish: "Post the wish", wishCount: (n, max) => `${n}/${max} characters`,
    proxyWishPosted: "Wish posted: it goes on the wish wall once the community approves it.",
    wishEmpty: "Please write the wish (1 to 200 characters).", wishTooLong: "A wish is at most 200 characters.",
    wishNoBuilding: "Please fill in the building (at most 20 characters).", wishBadCategory: "Please choose a kind of wish.",
  },
};

const RESIDENT_FIELDS = "id name phone contact contactEn getsSms communityId building created hasLoggedIn household { id name ageBand }";
const FIND = `mutation($input: ResidentByPhoneInput!) { residentByPhone(input: $input) { ${RESIDENT_FIELDS} } }`;
const ADD_MEMBER = `mutation($r: ID!, $name: String!, $relation: Relation!, $ageBand: AgeBand!, $guardian: Boolean!) {
  addHouseholdMemberFor(residentId: $r, name: $name, relation: $relation, ageBand: $ageBand,
                        guardianConsent: $guardian) { ${RESIDENT_FIELDS} } }`;
// A child's details only with the guardian's consent (PIPL: under 14 is sensitive; TEEN spans 13).
const NEEDS_GUARDIAN = ["CHILD", "TEEN"];
// The same reads the console's festival list makes, narrowed to what a sign-up needs.
const FESTIVALS = `query($limit: Int!, $after: ID) { festivals(limit: $limit, after: $after) {
  id name communityIds published } }`;
const FESTIVAL = `query($id: ID!) { festival(id: $id) { id name activities(limit: 200) { id title communityId sessions(limit: 200) {
  id venue startsAt endsAt seatsLeft waitlistLength status maxPartySize } } } }`;
const SIGN_UP_FOR = "mutation($input: SignUpForInput!) { signUpFor(input: $input) { id status partySize waitlistPosition } }";
const TICKET_FOR = `query($id: ID!) { ticketFor(signupId: $id) { ${TICKET_SHEET_FIELDS} } }`;
const POST_WISH = "mutation($input: PostWishInput!) { postWish(input: $input) { id status building } }";
const WISH_FIELD_TEXT = { description: "wishEmpty", building: "wishNoBuilding", category: "wishBadCategory" };

/** A refusal said by this card, in both languages like the API's. */
function localRefusal(key, field = null) {
  return new ApiError("BAD_USER_INPUT", tIn("zh", key), tIn("en", key), false, field);
}

/**
 * Wire the card (the section ``root``); its failures show in the card, next to what failed.
 * Returns {start(communities), render()}.
 */
export function proxySignup(root) {
  addStrings(STRINGS);
  const $ = (id) => root.querySelector(`#${id}`);
  const state = { resident: null, sessions: [], answer: null, ticket: null, showTicket: false };
  let knownIds = new Set(); // the attendees offered last time: one added since is ticked
  const findForm = $("proxy-find");
  const memberForm = $("proxy-member");
  const signupForm = $("proxy-signup");
  const wishForm = $("proxy-wish");
  const contact = contactFields(findForm);
  const signups = residentSignups($("proxy-signups"), (signupId) => {
    // The answer and ticket shown under the sign-up form no longer say what stands.
    if (state.answer?.id !== signupId) return;
    state.answer = null;
    state.ticket = null;
    state.showTicket = false;
    renderAnswer();
    loadSessions().catch(() => {});
  });

  function fillChoices() {
    const keep = (select, values, label, fallback) => {
      const previous = select.value;
      select.replaceChildren(...values.map((v) => el("option", { value: v }, label(v))));
      select.value = previous || fallback;
    };
    keep($("proxy-member-relation"), RELATIONS, (v) => t(`rel${v}`), "SPOUSE");
    keep($("proxy-member-age"), AGE_BANDS, (v) => t(`age${v}`), "ELDER");
    keep($("proxy-wish-category"), WISH_CATEGORIES, (v) => t(`cat${v}`), WISH_CATEGORIES[0]);
  }

  function renderResident() {
    const r = state.resident;
    $("proxy-resident").hidden = !r;
    $("proxy-act").hidden = !r;
    if (!r) return;
    root.dataset.resident = r.id;
    const found = $("proxy-found");
    found.dataset.created = String(r.created);
    found.textContent = (r.getsSms
      ? t(r.created ? "proxyCreated" : "proxyFound", r.name, r.phone, r.building)
      : noSmsNote(r))
      + (r.hasLoggedIn || r.created || !r.getsSms ? "" : ` ${t("proxyNeverLoggedIn")}`);
    $("proxy-household").replaceChildren(...(r.household.length
      ? r.household.map((m) => el("li", { dataset: { member: m.id } }, el("strong", {}, m.name), " ",
          el("span", { class: "muted" }, t(`age${m.ageBand}`))))
      : [el("li", { class: "note" }, t("proxyNoMembers"))]));
  }

  function renderSessions() {
    const select = $("proxy-session");
    const previous = select.value;
    const groups = new Map();
    for (const s of state.sessions) {
      if (!groups.has(s.festival)) groups.set(s.festival, []);
      groups.get(s.festival).push(s);
    }
    select.replaceChildren(...[...groups].map(([festival, sessions]) => el("optgroup", { label: festival },
      sessions.map((s) => el("option", { value: s.id }, sessionText(s))))));
    if (state.sessions.some((s) => s.id === previous)) select.value = previous;
    select.disabled = !state.sessions.length;
    describeSession();
  }

  function sessionText(s) {
    const seats = s.seatsLeft > 0 ? t("proxySeatsLeft", s.seatsLeft) : t("proxyFull", s.waitlistLength);
    return `${s.title} · ${fmtDateTime(s.startsAt)}–${fmtTime(s.endsAt)} · ${seats} · ${s.venue}`;
  }

  /** A phone's select cuts a long option short: the chosen session is also said in full below it. */
  function describeSession() {
    const s = state.sessions.find((x) => x.id === $("proxy-session").value);
    $("proxy-session-detail").textContent = s ? sessionText(s) : t("proxyNoSessions");
  }

  /** Who goes: the resident and each household member, all ticked to begin with. */
  function renderAttendees() {
    const r = state.resident;
    if (!r) return;
    const ticked = new Set([...root.querySelectorAll("#proxy-attendees input:checked")].map((b) => b.value));
    const fresh = root.querySelectorAll("#proxy-attendees input").length === 0;
    const box = (value, label) => el("label", { class: "check" },
      el("input", { type: "checkbox", value, checked: fresh || ticked.has(value) || !knownIds.has(value) }), label);
    $("proxy-attendees").replaceChildren(
      box("self", t("proxyResidentSelf", r.name)),
      ...r.household.map((m) => box(m.id, `${m.name}（${t(`age${m.ageBand}`)}）`)));
    knownIds = new Set(["self", ...r.household.map((m) => m.id)]);
    relabel();
  }

  function chosen() {
    const values = [...root.querySelectorAll("#proxy-attendees input:checked")].map((b) => b.value);
    return { includeMe: values.includes("self"), attendeeIds: values.filter((v) => v !== "self").sort() };
  }

  function relabel() {
    const { includeMe, attendeeIds } = chosen();
    const n = attendeeIds.length + (includeMe ? 1 : 0);
    $("proxy-sign-up").textContent = n ? t("proxySignUpN", n) : t("proxySignUp");
  }

  function renderAnswer() {
    const box = $("proxy-answer");
    const signup = state.answer;
    if (!signup) {
      box.replaceChildren();
      return;
    }
    const text = {
      CONFIRMED: () => t("proxyCONFIRMED", signup.partySize),
      WAITLISTED: () => t("proxyWAITLISTED", signup.waitlistPosition),
    }[signup.status] ?? (() => t("proxyPENDING"));
    const parts = [el("p", { class: { CONFIRMED: "confirm", WAITLISTED: "confirm waitlisted" }[signup.status] ?? "note", dataset: { status: signup.status } }, text())];
    if (signup.status === "CONFIRMED") parts.push(ticketPart(signup));
    box.replaceChildren(...parts);
  }

  /** The ticket's QR, large enough to print and hand over; the print shows the ticket alone. */
  function ticketPart(signup) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const ticket = state.ticket?.signupId === signup.id ? state.ticket : null;
    if (ticket && state.showTicket) {
      const hide = el("button", { type: "button", class: "quiet" }, t("proxyHideTicket"));
      hide.addEventListener("click", () => { state.showTicket = false; renderAnswer(); });
      return ticketSheet(ticket, hide);
    }
    const open = el("button", { type: "button", class: "secondary wide" }, t("proxyPrint"));
    open.addEventListener("click", () => busy(open, error, async () => {
      if (!ticket) state.ticket = (await gql(TICKET_FOR, { id: signup.id })).ticketFor;
      state.showTicket = true;
      renderAnswer();
    }));
    return el("div", {}, error, open);
  }

  /** The scheduled, not yet ended sessions of the resident's community in published festivals. */
  async function loadSessions() {
    const community = state.resident?.communityId;
    if (!community) return;
    const festivals = (await allPages(FESTIVALS, {}, (d) => d.festivals))
      .filter((f) => f.published && f.communityIds.includes(community));
    const now = new Date().toISOString();
    const loaded = await Promise.all(festivals.map((f) => gql(FESTIVAL, { id: f.id })));
    state.sessions = loaded.map((d) => d.festival).filter(Boolean).flatMap((f) => f.activities
      .filter((a) => a.communityId === community)
      .flatMap((a) => a.sessions
        .filter((s) => s.status === "SCHEDULED" && s.endsAt > now)
        .map((s) => ({ ...s, title: a.title, festival: f.name }))))
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    renderSessions();
  }

  function countWish() {
    $("proxy-wish-count").textContent = t("wishCount", [...$("proxy-wish-description").value].length, WISH_MAX);
  }

  function render() {
    fillChoices();
    contact.render();
    signups.render();
    renderResident();
    renderSessions();
    renderAttendees();
    renderAnswer();
    countWish();
  }

  function reset() {
    state.resident = null;
    state.sessions = [];
    state.answer = null;
    state.ticket = null;
    state.showTicket = false;
    knownIds = new Set();
    $("proxy-attendees").replaceChildren();
    delete root.dataset.resident;
  }

  findForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(findForm.querySelector("[type=submit]"), findForm.querySelector(".error"), async () => {
      // Find or register (the card has everything a registration needs, so it asks for one):
      // asking twice never makes two residents.
      const data = await gql(FIND, { input: {
        communityId: $("proxy-community").value, ...contact.values(), register: true,
        name: $("proxy-name").value.trim(), building: $("proxy-building").value.trim(), unit: $("proxy-unit").value.trim(),
        privacyNoticeExplained: $("proxy-notice-explained").checked,
      } });
      $("proxy-notice-explained").checked = false; // asked anew for each resident
      reset();
      state.resident = data.residentByPhone;
      $("proxy-wish-building").value = state.resident.building;
      wishForm.querySelector("[role=status]").hidden = true;
      render();
      await Promise.all([loadSessions(), signups.show(state.resident)]);
    });
  });

  memberForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(memberForm.querySelector("[type=submit]"), memberForm.querySelector(".error"), async () => {
      const name = $("proxy-member-name");
      const guardian = $("proxy-member-guardian");
      const data = await gql(ADD_MEMBER, {
        r: state.resident.id, name: name.value.trim(),
        relation: $("proxy-member-relation").value, ageBand: $("proxy-member-age").value,
        guardian: guardian.checked,
      });
      name.value = "";
      guardian.checked = false;
      state.resident = { ...data.addHouseholdMemberFor, created: state.resident.created };
      renderResident();
      renderAttendees();
    });
  });

  $("proxy-member-age").addEventListener("change", () => {
    $("proxy-member-guardian-row").hidden = !NEEDS_GUARDIAN.includes($("proxy-member-age").value);
  });
  $("proxy-attendees").addEventListener("change", relabel);
  $("proxy-session").addEventListener("change", describeSession);
  signupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("proxy-sign-up"), signupForm.querySelector(".error"), async () => {
      const sessionId = $("proxy-session").value;
      const { includeMe, attendeeIds } = chosen();
      if (!includeMe && !attendeeIds.length) throw localRefusal("proxyNobody", "attendeeIds");
      state.answer = null;
      renderAnswer();
      const resident = state.resident.id;
      const action = `proxy-signup:${resident}:${sessionId}:${includeMe}:${attendeeIds.join(",")}`;
      state.answer = await keyed(action, (key) => untilAnswered(
        async () => (await gql(SIGN_UP_FOR, { input: { residentId: resident, sessionId, idempotencyKey: key, attendeeIds, includeMe } })).signUpFor,
        (pending) => { state.answer = pending; renderAnswer(); },
      ));
      state.ticket = null;
      state.showTicket = false;
      renderAnswer();
      await Promise.all([loadSessions(), signups.refresh()]);
    });
  });

  function wishDraft() {
    const description = $("proxy-wish-description").value.trim();
    const building = $("proxy-wish-building").value.trim();
    if (!description) throw localRefusal("wishEmpty", "description");
    if ([...description].length > WISH_MAX) throw localRefusal("wishTooLong", "description");
    if (!building || [...building].length > 20) throw localRefusal("wishNoBuilding", "building");
    return {
      communityId: state.resident.communityId, residentId: state.resident.id,
      category: $("proxy-wish-category").value, description, building,
    };
  }

  $("proxy-wish-description").addEventListener("input", countWish);
  // One key per wish as typed and per resident: a retry posts it once; an edit is a new wish.
  const wishAction = () => `proxy-wish:${state.resident?.id}`;
  wishForm.addEventListener("input", () => settle(wishAction()));
  wishForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const done = wishForm.querySelector("[role=status]");
    done.hidden = true;
    busy(wishForm.querySelector("[type=submit]"), wishForm.querySelector(".error"), async () => {
      try {
        const input = wishDraft();
        await keyed(wishAction(), (key) => gql(POST_WISH, { input: { ...input, idempotencyKey: key } }));
      } catch (error) {
        if (error instanceof ApiError && error.code === "BAD_USER_INPUT" && WISH_FIELD_TEXT[error.field]) {
          throw localRefusal(WISH_FIELD_TEXT[error.field], error.field);
        }
        throw error;
      }
      $("proxy-wish-description").value = "";
      countWish();
      done.hidden = false;
      done.textContent = t("proxyWishPosted");
    });
  });

  return {
    /** ``names``: each community's name by id, shown in the select (never the id). */
    start(communities, names = new Map()) {
      reset();
      $("proxy-community").replaceChildren(...communities.map((c) => el("option", { value: c }, names.get(c) ?? c)));
      render();
    },
    render() {
      render();
      if (!wishForm.querySelector("[role=status]").hidden) {
        wishForm.querySelector("[role=status]").textContent = t("proxyWishPosted");
      }
    },
  };
}
