// The console's "my account" card: a staff member changes their password (every other device is
// logged out) or logs out everywhere (a lost phone, a shared computer).
import { addStrings, ApiError, busy, el, gql, t, tIn } from "/static/common.js";

const STRINGS = {
  zh: {
    accountTitle: "我的账号",
    accountNote: "换了密码，其他手机和电脑上的登录都会退出，这台设备不受影响。",
    currentPassword: "现在的密码", newPassword: "新密码（至少10个字符）", newPasswordAgain: "再输一次新密码",
    changePassword: "更换密码",
    passwordChanged: "密码已更换。其他设备上的登录已经退出。",
    passwordsDiffer: "两次输入的新密码不一样，请重新输入。",
    passwordTooShort: "新密码至少要10个字符。",
    everywhereNote: "手机丢了，或在别人的电脑上登录过？可以让所有设备（包括这台）都退出登录。",
    logOutEverywhere: "在所有设备上退出",
    confirmEverywhere: "确认在所有设备上退出？",
  },
  en: {
    accountTitle: "My account",
    accountNote: "After a password change every other phone and computer is logged out; this one stays in.",
    currentPassword: "Current password", newPassword: "New password (at least 10 characters)",
    newPasswordAgain: "New password again",
    changePassword: "Change password",
    passwordChanged: "Password changed. Every other device has been logged out.",
    passwordsDiffer: "The two new passwords differ; please type them again.",
    passwordTooShort: "The new password needs at least 10 characters.",
    everywhereNote: "Lost your phone, or logged in on someone else's computer? Log out on every device, this one included.",
    logOutEverywhere: "Log out on every device",
    confirmEverywhere: "Log out on every device?",
  },
};

const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }`;
const MIN_PASSWORD = 10;

function refusal(key, field) {
  return new ApiError("BAD_USER_INPUT", tIn("zh", key), tIn("en", key), false, field);
}

function field(id, key, autocomplete) {
  return [
    el("label", { for: id, "data-i18n": key }, t(key)),
    el("input", { id, type: "password", autocomplete, required: true, maxlength: 128 }),
  ];
}

/** Build the card in ``root``; ``onLoggedOut`` runs once every session has ended. */
export function accountCard(root, { onLoggedOut }) {
  addStrings(STRINGS);
  const form = el("form", { id: "account-password" },
    ...field("account-current", "currentPassword", "current-password"),
    ...field("account-new", "newPassword", "new-password"),
    ...field("account-again", "newPasswordAgain", "new-password"),
    el("p", { class: "error", role: "alert", hidden: true }),
    el("p", { class: "confirm", role: "status", hidden: true }),
    el("button", { type: "submit", class: "wide", "data-i18n": "changePassword" }, t("changePassword")));
  const everywhereError = el("p", { class: "error", role: "alert", hidden: true });
  const everywhere = el("button", { type: "button", class: "quiet wide", "data-i18n": "logOutEverywhere" },
    t("logOutEverywhere"));
  root.replaceChildren(
    el("h2", { "data-i18n": "accountTitle" }, t("accountTitle")),
    el("div", { class: "grid-2" },
      el("div", {}, el("p", { class: "note", "data-i18n": "accountNote" }, t("accountNote")), form),
      el("div", {},
        el("p", { class: "note", "data-i18n": "everywhereNote" }, t("everywhereNote")),
        everywhere,
        everywhereError)),
  );

  const said = form.querySelector("[role=status]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    said.hidden = true;
    busy(form.querySelector("[type=submit]"), form.querySelector(".error"), async () => {
      const current = root.querySelector("#account-current");
      const fresh = root.querySelector("#account-new");
      const again = root.querySelector("#account-again");
      if (fresh.value.length < MIN_PASSWORD) throw refusal("passwordTooShort", "newPassword");
      if (fresh.value !== again.value) throw refusal("passwordsDiffer", "newPassword");
      await gql(CHANGE, { c: current.value, n: fresh.value });
      for (const input of [current, fresh, again]) input.value = "";
      said.hidden = false;
      said.textContent = t("passwordChanged");
    });
  });

  let asked = false;
  everywhere.addEventListener("click", () => {
    if (!asked) { // asked once more: it logs this device out too
      asked = true;
      everywhere.dataset.i18n = "confirmEverywhere";
      everywhere.textContent = t("confirmEverywhere");
      return;
    }
    busy(everywhere, everywhereError, async () => {
      await gql("mutation { logOutEverywhere }");
      asked = false;
      everywhere.dataset.i18n = "logOutEverywhere";
      everywhere.textContent = t("logOutEverywhere");
      await onLoggedOut();
    });
  });
}
