// The console's 微心愿 review queue: approve, decline with a reason or merge a posted wish, then
// publish an approved one to the community's wish wall. Its strings live with the console's.
import { allPages, ApiError, busy, el, gql, t, tIn } from "/static/common.js";

const WISH_FIELDS = "id category description building status";
const TO_REVIEW = `query($c: String!, $limit: Int!, $after: ID) { wishesToReview(communityId: $c, limit: $limit, after: $after) {
  ${WISH_FIELDS} } }`;
const REVIEW = `mutation($input: ReviewWishInput!) { reviewWish(input: $input) { ${WISH_FIELDS} } }`;
const PUBLISH = `mutation($id: ID!) { publishWish(wishId: $id) { ${WISH_FIELDS} } }`;

/**
 * Wire the queue to its elements ({community, queue, done, refresh}); ``onError`` shows a failed
 * load. Reviewing and publishing are idempotent on the server (the same decision again returns
 * the wish as it is), so a retry needs no idempotency key.
 */
export function wishReview(nodes, onError) {
  const state = { wishes: [], choice: null, done: null };

  async function load() {
    const community = nodes.community.value;
    state.wishes = community ? await allPages(TO_REVIEW, { c: community }, (d) => d.wishesToReview) : [];
    render();
  }

  function say(key) {
    state.done = key;
    nodes.done.hidden = !key;
    nodes.done.textContent = key ? t(key) : "";
  }

  async function decided(key) {
    state.choice = null;
    say(key);
    await load();
  }

  function render() {
    if (state.done) nodes.done.textContent = t(state.done);
    if (!state.wishes.length) {
      nodes.queue.replaceChildren(el("p", { class: "note" }, t("noWishesToReview")));
      return;
    }
    nodes.queue.replaceChildren(...state.wishes.map((wish) => el("article", { class: "card wish", dataset: { wish: wish.id, status: wish.status } },
      el("h3", {}, t(`cat${wish.category}`), " ", el("span", { class: "muted" }, wish.building)),
      el("p", {}, wish.description),
      el("p", {}, el("span", { class: `badge ${wish.status === "APPROVED" ? "ok" : "wait"}` }, t(`wish${wish.status}`))),
      wish.status === "POSTED" ? reviewPart(wish) : publishPart(wish))));
  }

  function button(label, onclick, quiet = false) {
    return el("button", { type: "button", class: quiet ? "quiet" : null, onclick }, t(label));
  }

  function reviewPart(wish) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const review = (input, key) => async (event) => {
      const pressed = event.currentTarget;
      await busy(pressed, error, async () => {
        await gql(REVIEW, { input: { wishId: wish.id, ...input() } });
        await decided(key);
      });
    };
    const choose = (kind) => () => { state.choice = kind ? { id: wish.id, kind } : null; say(null); render(); };
    const choice = state.choice?.id === wish.id ? state.choice.kind : null;
    const others = state.wishes.filter((w) => w.id !== wish.id);
    if (choice === "decline") {
      const reason = el("input", { maxlength: 200, "aria-label": t("declineReason"), placeholder: t("declineReason") });
      setTimeout(() => reason.focus(), 0);
      const input = () => {
        if (!reason.value.trim()) {
          throw new ApiError("BAD_USER_INPUT", tIn("zh", "needReason"), tIn("en", "needReason"), false, "reason");
        }
        return { review: "DECLINE", reason: reason.value.trim() };
      };
      return el("div", { class: "choice" }, reason, error,
        el("div", { class: "actions" }, button("confirmDecline", review(input, "wishDeclined")), button("keep", choose(null), true)));
    }
    if (choice === "merge") {
      const target = el("select", { "aria-label": t("mergeInto") },
        others.map((w) => el("option", { value: w.id }, `${t(`cat${w.category}`)} · ${w.building} · ${w.description.slice(0, 30)}`)));
      const input = () => ({ review: "MERGE", mergeInto: target.value });
      return el("div", { class: "choice" }, el("label", {}, t("mergeInto")), target, error,
        el("div", { class: "actions" }, button("confirmMerge", review(input, "wishMerged")), button("keep", choose(null), true)));
    }
    return el("div", {}, error, el("div", { class: "actions" },
      button("approve", review(() => ({ review: "APPROVE" }), "wishApproved")),
      button("decline", choose("decline"), true),
      others.length ? button("merge", choose("merge"), true) : null));
  }

  function publishPart(wish) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const publish = button("publishWish", (event) => busy(event.currentTarget, error, async () => {
      await gql(PUBLISH, { id: wish.id });
      await decided("wishPublished");
    }));
    return el("div", {}, error, el("div", { class: "actions" }, publish));
  }

  const reload = () => load().catch(onError);
  nodes.community.addEventListener("change", () => { state.choice = null; say(null); reload(); });
  nodes.refresh.addEventListener("click", reload);

  return {
    /** ``names``: each community's name by id, shown in the select (never the id). */
    start(communities, names = new Map()) {
      nodes.community.replaceChildren(...communities.map((c) => el("option", { value: c }, names.get(c) ?? c)));
      reload();
    },
    render,
  };
}
