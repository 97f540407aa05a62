// The console: a hash router over pages, one dashboard stream, two languages.
import { api, setToken, token } from "./api.js";
import { explain, language, onLanguage, setLanguage, t, translate } from "./i18n.js";
import { DashboardStream } from "./stream.js";
import * as login from "./pages/login.js";
import * as panels from "./pages/panels.js";
import * as mapPage from "./pages/map.js";
import * as intake from "./pages/intake.js";
import * as eventPage from "./pages/event.js";
import * as dispatchPage from "./pages/dispatch.js";
import * as usersPage from "./pages/users.js";
import * as reportsPage from "./pages/reports.js";

const main = document.getElementById("main");
const status = document.getElementById("link-status");
const pages = {
  panels,
  map: mapPage,
  new: intake,
  event: eventPage,
  attendance: dispatchPage,
  users: usersPage,
  reports: reportsPage,
};
let stream = null;
let leave = null;
let config = {};

let routing = 0; // the newest route() call: an older one still awaiting gives way

async function route() {
  const mine = ++routing;
  if (leave) leave();
  leave = null;
  if (!token()) {
    document.getElementById("nav").hidden = true;
    document.getElementById("logout").hidden = true;
    login.render(main, { onLoggedIn: () => {
      if (location.hash === "#/panels") route(); else location.hash = "#/panels"; // one route()
    } });
    return;
  }
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  if (!config.me) config.me = await api("GET", "/auth/me").catch(() => null);
  if (mine !== routing) return; // a newer route() goes on from here
  document.getElementById("nav-users").hidden = !(config.me && config.me.role === "admin");
  document.getElementById("nav-reports").hidden = !(config.me && ["supervisor", "admin"].includes(config.me.role));
  if (!stream) {
    const closes = config.closes || {};
    const signedOut = [closes.auth_failed, closes.token_revoked].map((c) => c && c.code);
    stream = new DashboardStream(closes);
    stream.addEventListener("link", ({ detail }) => {
      status.dataset.up = detail.up;
      status.textContent = detail.up ? t("live") : t("reconnecting");
      if (signedOut.includes(detail.code)) logout();
    });
    stream.connect();
  }
  const [name, ...params] = location.hash.replace(/^#\/?/, "").split("/");
  const page = pages[name] || panels;
  try {
    const left = (await page.render(main, { stream, config, params })) || null;
    if (mine !== routing) {  // another page was asked for meanwhile: this one goes
      if (left) left();
      return;
    }
    leave = left;
  } catch (error) {
    main.replaceChildren(Object.assign(document.createElement("p"), { className: "error", role: "alert", textContent: explain(error) }));
  }
  main.focus();
}

async function logout() {
  // The hub ends the user's sessions (every console it has open closes too).
  if (token()) await api("POST", "/auth/logout").catch(() => {});
  setToken(null);
  config.me = null;
  if (stream) stream.close();
  stream = null;
  location.hash = "";
  route();
}

async function start() {
  config = await api("GET", "/console/config.json").catch(() => ({}));
  const picker = document.getElementById("lang");
  picker.value = language();
  picker.addEventListener("change", () => setLanguage(picker.value));
  onLanguage(() => {
    status.textContent = status.dataset.up === "true" ? t("live") : status.textContent && t("reconnecting");
  });
  setLanguage(language());
  translate(document);
  document.getElementById("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", route);
  route();
}

start();
