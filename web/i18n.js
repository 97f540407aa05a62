// One message catalogue per language (messages/*.js); Portuguese (Brazil) by default.
import ptBR from "./messages/pt-BR.js";
import en from "./messages/en.js";

const catalogues = { "pt-BR": ptBR, en };
let current = localStorage.getItem("hub.lang") || "pt-BR";
const listeners = new Set();

export function t(key, values = {}) {
  const text = catalogues[current][key] ?? catalogues["pt-BR"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!catalogues[lang]) return;
  current = lang;
  localStorage.setItem("hub.lang", lang);
  document.documentElement.lang = lang;
  translate(document);
  listeners.forEach((listener) => listener(lang));
}

export function onLanguage(listener) {
  listeners.add(listener);
}

// Every element with data-i18n gets its text from the catalogue.
export function translate(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
}

export function has(key) {
  return key in catalogues[current] || key in catalogues["pt-BR"];
}

// Numbers, money, percentages and dates in the language's own format.
export function number(value, options = {}) {
  return new Intl.NumberFormat(current, options).format(value);
}

export function money(cents) {
  return number(cents / 100, { style: "currency", currency: "BRL" });
}

export function percent(ratio) {
  return number(ratio, { style: "percent", maximumFractionDigits: 1 });
}

export function dateTime(ms) {
  return new Intl.DateTimeFormat(current, { dateStyle: "short", timeStyle: "short" }).format(ms);
}

export function timeOfDay(ms) {
  return new Intl.DateTimeFormat(current, { timeStyle: "short" }).format(ms);
}

// A service by its name in this language (the hub sends codes: light_tow).
export function serviceName(code) {
  return code ? t(`service_${code}`) : "";
}

// A field path of an error's details (origin.address.number) as the form names it.
function fieldName(path) {
  const parts = path.split(".");
  const known = (name) => has(`field_${name}`);
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (parts.length > 1 && known(first) && known(last)) return `${t(`field_${first}`)} · ${t(`field_${last}`)}`;
  for (const name of [last, first]) if (known(name)) return t(`field_${name}`);
  return t("field_body");
}

// What to show for a failed call: the catalogue's text for the hub's error code, with
// the details the code carries (never the hub's English message); a failure to reach
// the hub at all (no code) says so.
export function explain(error) {
  if (!error || !error.code) return t("error_network");
  const details = error.details || {};
  const values = { ...details };
  if (details.field) values.field = fieldName(details.field);
  if (details.service) values.service = serviceName(details.service);
  if (details.mode) values.mode = t(`mode_${details.mode}`);
  if (details.step) values.step = t(`step_verb_${details.step}`);
  if (details.state) values.state = t(`state_${details.state}`);
  if (details.kind) values.kind = t(`kind_${details.kind}`);
  for (const name of ["km", "limit_km", "min_length"]) if (details[name] != null) values[name] = number(details[name]);
  if (details.price_cents != null) values.price = money(details.price_cents);
  if (details.cap_cents != null) values.cap = money(details.cap_cents);
  // A request refused for one field: what is wrong with it, in the form's own words.
  if (error.code === "bad_request" && details.problem && has(`problem_${details.problem}`)) {
    return t(`problem_${details.problem}`, values);
  }
  const key = `error_${error.code}`;
  return has(key) ? t(key, values) : t("error_http_error");
}
