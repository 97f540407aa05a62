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
