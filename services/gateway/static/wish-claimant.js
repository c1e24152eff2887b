// On the resident's page: who took her wish on (their name, or their unit or partner
// organisation) and when they plan to come.
import { el, fmtDateTime, t } from "/static/common.js";
import { addModuleStrings } from "/static/busy-label.js";

const STRINGS = {
  zh: {
    claimedBy: (who, org) => `认领人：${who}${org ? `（${org}）` : ""}`,
    claimantVolunteer: "一位志愿者", claimantPARTY_MEMBER: "在职党员", claimantPARTNER: "共建单位", claimantVOLUNTEER: "志愿者",
    visitPlanned: (when) => `计划上门：${when}`, visitNotYet: "上门前会通过社区与您约时间。",
  },
  en: {
    claimedBy: (who, org) => `Taken on by ${who}${org ? ` (${org})` : ""}`,
    claimantVolunteer: "a volunteer", claimantPARTY_MEMBER: "party member", claimantPARTNER: "partner", claimantVOLUNTEER: "volunteer",
    visitPlanned: (when) => `Planned visit: ${when}`, visitNotYet: "They will arrange a time with you through the community.",
  },
};

export const CLAIMANT_FIELDS = "claimant { name kind organisation plannedVisitAt }";

let added = false;

/** The claimant's lines of one of her wishes, or null when nobody holds it. */
export function claimantLine(wish) {
  if (!wish.claimant || !["CLAIMED", "DONE"].includes(wish.status)) return null;
  if (!added) {
    added = true; // first: adding strings redraws the page, which comes back here
    addModuleStrings(STRINGS);
  }
  const c = wish.claimant;
  return el("div", { class: "claimant" },
    el("p", {}, t("claimedBy", c.name ?? t("claimantVolunteer"), c.organisation)),
    wish.status === "CLAIMED"
      ? el("p", { class: "muted" }, c.plannedVisitAt ? t("visitPlanned", fmtDateTime(c.plannedVisitAt)) : t("visitNotYet"))
      : null);
}
