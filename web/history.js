// An attendance's log as sentences in the console's language: the hub's entries carry
// the action, the actor (user:<id>, provider:<id>, system, gps) and their facts; the
// attendance view names the users and providers they mention.
import { dateTime, has, t, timeOfDay } from "./i18n.js";

export function who(actor, names = {}) {
  if (names[actor]) return names[actor];
  const [kind, id] = actor.split(":");
  if (kind === "system" || kind === "gps") return t(`actor_${kind}`);
  if ((kind === "user" || kind === "provider") && id) return t(`actor_${kind}`, { id });
  return actor;
}

function reason(text) {
  if (has(`reason_${text}`)) return t(`reason_${text}`);
  if (text === "taken") return t("withdrawn_taken");
  return text; // an operator's own words (a cancellation's reason)
}

export function sentence(entry, names = {}) {
  const facts = entry.facts || {};
  const values = {
    actor: who(entry.actor, names),
    provider: facts.provider_id != null ? who(`provider:${facts.provider_id}`, names) : "",
    mode: facts.mode ? t(`mode_${facts.mode}`) : "",
    eta: facts.eta_min ?? "",
    reason: facts.reason ? reason(facts.reason) : "",
    note: facts.note ? t(`note_${facts.note}`) : "",
    when: facts.starts_ms ? dateTime(facts.starts_ms) : "",
    action: entry.action,
  };
  const key = has(`log_${entry.action}`) ? `log_${entry.action}` : "log_other";
  return `${timeOfDay(entry.at_ms)} · ${t(key, values)}`;
}
