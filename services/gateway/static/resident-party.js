// 我的报名: one of a party no longer comes (her husband fell ill). Each person of the party has
// their own "只取消 …" button that asks once more; the rest keep the sign-up and its ticket, the
// freed place goes to the waitlist at once, and the card says in words what changed.
import { addStrings, busy, el, gql, keyed, t } from "/static/common.js";

const STRINGS = {
  zh: {
    partyCutOpen: "只取消其中一人", partyCutClose: "不取消了",
    partyCutOne: (name) => `取消 ${name}`, partyCutConfirm: (name) => `确认取消 ${name}？`,
    partyCutDone: (dropped, kept, n) => `已为${dropped}取消，${kept}的报名保留，共 ${n} 人。原票券仍可使用，空出的名额已让给候补的居民。`,
    partyYou: "您本人",
  },
  en: {
    partyCutOpen: "Cancel for one person only", partyCutClose: "Keep everyone",
    partyCutOne: (name) => `Cancel ${name}`, partyCutConfirm: (name) => `Really cancel ${name}?`,
    partyCutDone: (dropped, kept, n) => `Cancelled for ${dropped}; ${kept} still going, ${n} in all. Your ticket still works; the freed place went to the waitlist.`,
    partyYou: "you",
  },
};
let added = false;

/** The page sets its own strings first (useStrings); these are added once, on first use. */
function strings() {
  if (added) return;
  added = true; // before adding: adding re-renders the page, which comes back here
  addStrings(STRINGS);
}

const CUT = `mutation($input: CancelPartyMembersInput!) {
  cancelPartyMembers(input: $input) { id status partySize attendees { id name } } }`;

const said = new Map(); // sign-up id -> what changed, said again after each re-render
const ui = { open: null, armed: null };

/** Who goes on a sign-up: the resident (unless only family go) and the household members named. */
export function partyOf(signup, myName) {
  strings();
  const me = signup.partySize > signup.attendees.length
    ? [{ id: null, name: myName || t("partyYou"), me: true }] : [];
  return [...me, ...signup.attendees.map((a) => ({ id: a.id, name: a.name, me: false }))];
}

/**
 * What a live sign-up's card shows of its party: the words of the last change and, for a party
 * of two or more, the buttons to take one person off. ``reload`` refreshes the page's lists.
 */
export function partyPart(signup, myName, reload) {
  strings();
  const box = el("div", { class: "party-cut" });
  const notice = said.get(signup.id);
  if (notice) box.append(el("p", { class: "confirm", role: "status" }, notice()));
  const live = signup.status === "CONFIRMED" || signup.status === "WAITLISTED";
  const people = partyOf(signup, myName);
  if (!live || people.length < 2) return box;
  const error = el("p", { class: "error", role: "alert", hidden: true });
  if (ui.open !== signup.id) {
    const open = el("button", { type: "button", class: "quiet" }, t("partyCutOpen"));
    open.addEventListener("click", () => { ui.open = signup.id; ui.armed = null; reload(false); });
    box.append(open);
    return box;
  }
  for (const person of people) {
    const key = `${signup.id}:${person.id ?? "me"}`;
    const armed = ui.armed === key;
    const label = person.me ? t("me") : person.name; // the page's own word for the resident: 我本人
    const button = el("button", { type: "button", class: "secondary" },
      armed ? t("partyCutConfirm", label) : t("partyCutOne", label));
    button.addEventListener("click", () => {
      if (ui.armed !== key) {
        ui.armed = key;
        button.textContent = t("partyCutConfirm", label);
        return;
      }
      busy(button, error, async () => {
        const input = person.me ? { me: true } : { attendeeIds: [person.id] };
        const after = (await keyed(`party-cut:${key}`, (k) =>
          gql(CUT, { input: { signupId: signup.id, idempotencyKey: k, ...input } }))).cancelPartyMembers;
        const kept = people.filter((p) => p !== person).map((p) => p.name).join(t("listSep"));
        said.set(signup.id, () => t("partyCutDone", person.name, kept, after.partySize));
        ui.open = null;
        ui.armed = null;
        await reload(true);
      });
    });
    box.append(button);
  }
  const close = el("button", { type: "button", class: "quiet" }, t("partyCutClose"));
  close.addEventListener("click", () => { ui.open = null; ui.armed = null; reload(false); });
  box.append(close, error);
  return box;
}
