// A button that says "正在提交…" while its request is in flight (see common.js ``busy``).
import { addStrings, busy, t } from "/static/common.js";

const STRINGS = { zh: { submitting: "正在提交…" }, en: { submitting: "Sending…" } };

/**
 * Add a module's strings (with "submitting") once the page has set its own: call it from the
 * module's start, after the page's ``useStrings``.
 */
export function addModuleStrings(table) {
  addStrings({ zh: { ...STRINGS.zh, ...table.zh }, en: { ...STRINGS.en, ...table.en } });
}

export async function busyLabel(button, errorBox, work) {
  if (button.disabled) return undefined;
  const label = button.textContent;
  button.textContent = t("submitting");
  try {
    return await busy(button, errorBox, work);
  } finally {
    button.textContent = label;
  }
}
