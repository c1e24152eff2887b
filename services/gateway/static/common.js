// What every Linli page shares: GraphQL calls, bilingual text, busy buttons, idempotency keys.

const LANG_KEY = "linli.lang";

/** 微心愿 categories, as the API takes them; their names are the strings `cat<CATEGORY>`. */
export const WISH_CATEGORIES = ["REPAIR", "VISIT", "SUPPLIES", "HEALTH", "ERRAND", "OTHER"];

export function lang() {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

const COMMON = {
  zh: {
    sendCode: "获取验证码",
    resendIn: (s) => `${s}秒后可重发`,
    codeSent: (m) => `验证码已发送，${m}分钟内有效`,
    retryHint: "请再按一次按钮重试。",
    submitting: "正在提交…", retry: "重试", loadingList: "正在加载…", more: "更多",
    catREPAIR: "维修", catVISIT: "探访陪伴", catSUPPLIES: "生活物资", catHEALTH: "健康关爱",
    catERRAND: "跑腿代办", catOTHER: "其他",
    privacyNotice: "《隐私告知》", privacyAgree: "点击“登录”即表示您已阅读并同意",
  },
  en: {
    sendCode: "Get code",
    resendIn: (s) => `Resend in ${s}s`,
    codeSent: (m) => `Code sent; valid for ${m} minutes`,
    retryHint: "Press the button again to retry.",
    submitting: "Sending…", retry: "Try again", loadingList: "Loading…", more: "More",
    catREPAIR: "Repairs", catVISIT: "Company and visits", catSUPPLIES: "Daily supplies", catHEALTH: "Health",
    catERRAND: "Errands", catOTHER: "Other",
    privacyNotice: "the privacy notice", privacyAgree: "By pressing “Log in” you accept",
  },
};
let strings = COMMON;
const langListeners = [];

/** Give the page its strings; every element with data-i18n="key" shows strings[lang][key]. */
export function useStrings(table) {
  strings = { zh: { ...COMMON.zh, ...table.zh }, en: { ...COMMON.en, ...table.en } };
  markLoadingSelects();
  applyLang();
}

/**
 * Add a module's strings to the page's (call it after the page's useStrings): a card that lives
 * in its own module, like the console's, keeps its words next to its code.
 */
export function addStrings(table) {
  strings = { zh: { ...strings.zh, ...table.zh }, en: { ...strings.en, ...table.en } };
  applyLang();
}

export function t(key, ...args) {
  return tIn(lang(), key, ...args);
}

/** A string in the given language ("zh" or "en"), whichever is shown now. */
export function tIn(which, key, ...args) {
  const found = strings[which][key] ?? strings.zh[key] ?? key;
  return typeof found === "function" ? found(...args) : found;
}

export function onLangChange(listener) {
  langListeners.push(listener);
}

function applyLang() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
  for (const listener of langListeners) listener();
}

/** The 中文/English switch: a button showing the other language's name. */
export function langSwitch(button) {
  const label = () => {
    button.textContent = lang() === "en" ? "中文" : "English";
    button.lang = lang() === "en" ? "zh-CN" : "en";
  };
  label();
  button.addEventListener("click", () => {
    localStorage.setItem(LANG_KEY, lang() === "en" ? "zh" : "en");
    label();
    applyLang();
  });
}

/** A failed call: a refusal from the API (code + both messages) or a network failure. */
export class ApiError extends Error {
  constructor(code, zh, en, retryable, field = null) {
    super(`${code}: ${en}`);
    this.code = code;
    // BAD_USER_INPUT names the input it refused, so a page can say it in its own words.
    this.field = field;
    this.zh = zh;
    this.en = en;
    // The request may or may not have been carried out: retry with the same idempotency key.
    this.retryable = retryable;
  }

  text() {
    return lang() === "en" ? this.en : this.zh;
  }
}

const RETRYABLE = new Set(["STILL_PROCESSING", "INTERNAL_ERROR", "RATE_LIMITED", "SERVICE_UNAVAILABLE"]);
const NO_REFRESH = /\b(logIn|organiserLogIn|refreshToken|requestLoginCode|logOut)\b/;

async function post(query, variables) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("NETWORK", "网络连接失败，请检查网络后重试", "Network failure; check your connection and retry", true);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(
      "UNAVAILABLE",
      "服务暂时没有回应，请稍后重试",
      `The service did not answer (HTTP ${response.status}); please retry`,
      true,
    );
  }
  if (body.errors && body.errors.length) {
    const ext = body.errors[0].extensions || {};
    const code = ext.code || "ERROR";
    throw new ApiError(
      code,
      ext.messageZh || body.errors[0].message,
      ext.messageEn || body.errors[0].message,
      RETRYABLE.has(code),
      ext.field ?? null,
    );
  }
  return body.data;
}

let renewing = null;

/** Run a query or mutation; an expired access token is renewed once from the refresh cookie. */
export async function gql(query, variables = {}) {
  try {
    return await post(query, variables);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED" || NO_REFRESH.test(query)) throw error;
    try {
      // One renewal for every request that found the token expired: a refresh token spent
      // twice reads as stolen and ends the session (issue 16).
      renewing ??= post("mutation { refreshToken { expiresInS } }", {}).finally(() => { renewing = null; });
      await renewing;
    } catch {
      throw error;
    }
    return post(query, variables);
  }
}

/**
 * The idempotency key of one intended action (e.g. "signup:<session>"). It stays the same until
 * the action is settled, so a retry after a lost answer — even after a reload — is the same request.
 */
export function keyFor(action) {
  const name = `linli.key.${action}`;
  let key = sessionStorage.getItem(name);
  if (!key) {
    // getRandomValues works on plain http too (a venue's LAN), unlike randomUUID.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(name, key);
  }
  return key;
}

export function settle(action) {
  sessionStorage.removeItem(`linli.key.${action}`);
}

/** Call ``send(key)`` with the action's key; the key is spent once an answer is final. */
export async function keyed(action, send) {
  try {
    const result = await send(keyFor(action));
    settle(action);
    return result;
  } catch (error) {
    if (error instanceof ApiError && !error.retryable) settle(action);
    throw error;
  }
}

/**
 * Send a sign-up until its answer is no longer PENDING: asking again with the same key returns
 * the stored answer once there is one (a refusal too, raised). ``onPending`` hears each wait.
 */
export async function untilAnswered(send, onPending = () => {}, tries = 30) {
  let answer = await send();
  for (let tried = 0; answer.status === "PENDING" && tried < tries; tried += 1) {
    onPending(answer);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    answer = await send();
  }
  return answer;
}

/**
 * Run ``work`` with ``button`` disabled, marked busy and saying "正在提交…" until it ends; a
 * failure is shown in ``errorBox``. After a retryable failure (the network, a 502, no answer yet)
 * the box holds a 重试 button that runs the same ``work`` again: its action's idempotency key was
 * kept (see ``keyed``), so a retry of a sign-up that did go through returns that sign-up.
 */
export async function busy(button, errorBox, work) {
  if (button.disabled) return undefined;
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = t("submitting");
  if (errorBox) showError(errorBox, null);
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (errorBox) showError(errorBox, error, () => busy(button, errorBox, work));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    // The work may have relabelled the button (or re-rendered it away): keep what it said.
    if (button.textContent === t("submitting")) button.textContent = label;
  }
}

/** How many items a page of a list asks for, and the most the API gives (README.md, "Pages of a list"). */
export const PAGE = 50;
export const MAX_PAGE = 200;

/**
 * A list read page by page: ``next()`` asks for the page after the last item so far (its
 * ``key`` field is the next ``after``) and returns it; ``done`` once a page came back short.
 * ``query`` takes ``$limit: Int!`` and ``$after: ID``; ``pick`` finds the list in its answer.
 */
export function pages(query, variables, pick, { key = "id", limit = PAGE } = {}) {
  let after = null;
  const list = {
    items: [],
    done: false,
    async next() {
      const page = pick(await gql(query, { ...variables, limit, after }));
      list.items.push(...page);
      list.done = page.length < limit;
      if (page.length) after = page[page.length - 1][key];
      return page;
    },
  };
  return list;
}

/** Every page of a list, for a choice that needs the whole of it (a picker, a schedule). */
export async function allPages(query, variables, pick, options = {}) {
  const list = pages(query, variables, pick, { limit: MAX_PAGE, ...options });
  while (!list.done) await list.next();
  return list.items;
}

/**
 * The 更多 / More button under a list shown page by page: it appends the next page (``show``),
 * says 正在加载… while it waits, leaves a 重试 in ``errorBox`` after a failure, and is gone once
 * the whole list is shown.
 */
export function moreButton(list, show, errorBox) {
  const button = el("button", { type: "button", class: "secondary more", "data-i18n": "more" }, t("more"));
  button.hidden = list.done;
  const load = async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = t("loadingList");
    showError(errorBox, null);
    try {
      show(await list.next());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showError(errorBox, error, load);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = t("more");
      button.hidden = list.done;
    }
  };
  button.addEventListener("click", load);
  return button;
}

/** Show a failure in ``box``; a retryable one with a 重试 button when ``retry`` is given. */
export function showError(box, error, retry = null) {
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.dataset.code = error.code;
  if (error.retryable && retry) {
    const again = el("button", { type: "button", class: "secondary retry" }, t("retry"));
    again.addEventListener("click", retry);
    box.replaceChildren(sentence(error.text()), again);
    return;
  }
  box.textContent = error.retryable ? `${sentence(error.text())} ${t("retryHint")}` : error.text();
}

/** A message as a whole sentence: one closing 。 (or "."), never none and never two. */
export function sentence(text) {
  const trimmed = text.trim();
  if (/[。！？.!?]$/.test(trimmed)) return trimmed;
  return /[\u4e00-\u9fff）」]$/.test(trimmed) ? `${trimmed}。` : `${trimmed}.`;
}

/** Lists not filled yet say so, rather than sit empty, while their choices load. */
function markLoadingSelects() {
  for (const select of document.querySelectorAll("select")) {
    if (!select.options.length) select.append(el("option", { value: "", "data-i18n": "loadingList" }, t("loadingList")));
  }
}

/** Build an element: el("p", {class: "x"}, "text", child). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Festivals happen in China: times are shown in Beijing time whatever the device says.
const ZONE = "Asia/Shanghai";

export function fmtDateTime(iso) {
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", {
    timeZone: ZONE,
    month: "short",
    day: "numeric",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

export function fmtTime(iso) {
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", {
    timeZone: ZONE,
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

/** The Beijing calendar day of an instant, as YYYY-MM-DD. */
export function dayOf(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date(iso));
}

export function fmtDay(day) {
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", {
    timeZone: "UTC",
    month: "short",
    day: "numeric",
    weekday: "short",
  }).format(new Date(`${day}T00:00:00Z`));
}

/** A <input type="datetime-local"> value read as Beijing time, as an ISO instant. */
export function beijingInput(value) {
  return value ? `${value}:00+08:00` : "";
}

/** The phone-code log-in form shared by the residents' and the volunteers' pages. */
export function phoneLogIn(form, onLoggedIn) {
  const phone = form.querySelector("[name=phone]");
  const code = form.querySelector("[name=code]");
  const send = form.querySelector("[data-action=send-code]");
  const submit = form.querySelector("[type=submit]");
  const error = form.querySelector(".error");
  const note = form.querySelector(".note");
  let timer = null;
  // The privacy notice in force, above the log-in button: logging in accepts this version.
  const notice = el("details", { class: "privacy-notice" });
  const summary = el("summary", {}, "");
  const words = el("p", { class: "note" }, "");
  notice.append(summary, words);
  submit.before(notice);
  let shown = null;
  const showNotice = () => {
    if (!shown) return;
    notice.hidden = false;
    summary.textContent = `${t("privacyAgree")}${t("privacyNotice")}`;
    words.textContent = lang() === "en" ? shown.textEn : shown.textZh;
  };
  const loadNotice = () => gql("{ privacyNotice { version textZh textEn } }")
    .then((data) => { shown = data.privacyNotice; showNotice(); return shown; })
    .catch(() => { notice.hidden = true; return null; }); // asked for again at log-in
  let noticeLoaded = loadNotice();
  onLangChange(showNotice);

  const cooldown = (seconds) => {
    clearInterval(timer);
    let left = seconds;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        send.disabled = false;
        send.textContent = t("sendCode");
        return;
      }
      send.disabled = true;
      send.textContent = t("resendIn", left);
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  };

  send.addEventListener("click", () =>
    busy(send, error, async () => {
      const data = await gql(
        "mutation($phone: String!) { requestLoginCode(phone: $phone) { expiresInS resendAfterS } }",
        { phone: phone.value.trim() },
      );
      note.hidden = false;
      note.textContent = t("codeSent", Math.round(data.requestLoginCode.expiresInS / 60));
      code.focus();
      setTimeout(() => cooldown(data.requestLoginCode.resendAfterS), 0);
    }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      // Logging in accepts the notice shown above the button: its version goes with the log-in.
      const accepted = (await noticeLoaded) ?? (await (noticeLoaded = loadNotice()));
      const data = await gql(
        `mutation($phone: String!, $code: String!, $notice: String) {
          logIn(phone: $phone, code: $code, privacyNoticeVersion: $notice) { me { id } } }`,
        { phone: phone.value.trim(), code: code.value.trim(), notice: accepted?.version ?? null },
      );
      code.value = "";
      await onLoggedIn(data.logIn.me);
    });
  });
}

/** Who is logged in (by cookie), or null. */
export async function whoAmI(fields = "id roles communities name") {
  try {
    const data = await gql(`{ me { ${fields} } }`);
    return data.me;
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return null;
    throw error;
  }
}

export async function logOut() {
  try {
    await gql("mutation { logOut }");
  } catch {
    // Logged out already, or offline: the page forgets the person either way.
  }
}

/** Show exactly one of the page's views (elements with data-view). */
export function showView(name) {
  for (const view of document.querySelectorAll("[data-view]")) {
    view.hidden = view.dataset.view !== name;
  }
}
