// The provider web portal: sign in with phone and access key, go on duty, get offers live
// over the provider protocol (the same socket the app uses), answer them, report the job's
// steps, and optionally stream this browser's own location (watchPosition).
import { api } from "./api.js";
import { field, h } from "./dom.js";
import { explain, language, setLanguage, t, translate } from "./i18n.js";
import { assignmentCard, offerCard } from "./offer_view.js";

const main = document.getElementById("main");
const status = document.getElementById("link-status");
let token = sessionStorage.getItem("hub.provider");
let ws = null;
let seq = 0;
let watch = null;
const offers = new Map();
let job = null;
let jobState = null;

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

function draw() {
  const share = h("input", { type: "checkbox", onchange: (ev) => shareLocation(ev.target.checked), checked: watch !== null });
  const duty = h("input", { type: "checkbox", onchange: (ev) => send({ type: "duty", on: ev.target.checked }), checked: true });
  const parts = [
    h("div", { class: "card row" },
      field("duty", t("on_duty"), duty),
      field("share-location", t("share_location"), share)),
    job ? assignmentCard(job, jobState, (step) => send({ type: "step", attendance_id: job.attendance_id, step })) : null,
    offers.size ? null : h("p", { class: "muted", id: "no-offers" }, t("no_offers_now")),
    ...[...offers.values()].map((offer) => offerCard(offer, {
      onAccept: (eta) => send({ type: "accept", offer_id: offer.offer_id, eta_min: eta }),
      onRefuse: (reason) => send({ type: "refuse", offer_id: offer.offer_id, reason }),
    })),
  ];
  // replaceChildren writes a null as the text "null": only the parts there are.
  main.replaceChildren(...parts.filter(Boolean));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws/provider`);
  ws.onopen = () => send({ type: "hello", token, app: "portal" });
  ws.onclose = () => { status.textContent = t("reconnecting"); status.dataset.up = "false"; setTimeout(connect, 1000); };
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "welcome") {
      seq = 0; // sequence numbers are per session
      status.textContent = t("live");
      status.dataset.up = "true";
      send({ type: "duty", on: true });
    } else if (frame.type === "offer") {
      offers.set(frame.offer_id, frame);
      draw();
    } else if (frame.type === "offer_closed") {
      offers.delete(frame.offer_id);
      draw();
    } else if (frame.type === "assignment") {
      offers.delete(frame.offer_id);
      job = frame;
      jobState = frame.state;
      draw();
    } else if (frame.type === "status") {
      jobState = frame.state;
      draw();
    } else if (frame.type === "error" && frame.code.startsWith("token")) {
      sessionStorage.removeItem("hub.provider");
      location.reload();
    } else if (frame.type === "error") {
      status.textContent = explain(frame);
    }
  };
}

function shareLocation(on) {
  if (!on) {
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    watch = null;
    return;
  }
  watch = navigator.geolocation.watchPosition((position) => {
    seq += 1;
    const c = position.coords;
    send({ type: "fix", seq, t: Math.round(position.timestamp), lat: c.latitude, lng: c.longitude,
      acc: c.accuracy, spd: c.speed ?? undefined, hdg: c.heading ?? undefined });
  }, () => { status.textContent = t("location_unavailable"); }, { enableHighAccuracy: true });
}

function login() {
  const phone = h("input", { type: "tel", required: true, autocomplete: "tel" });
  const key = h("input", { type: "password", required: true });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  main.replaceChildren(h("form", { class: "login", onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const session = await api("POST", "/portal/login", { phone: phone.value, key: key.value });
      token = session.token;
      sessionStorage.setItem("hub.provider", token);
      start();
    } catch (error) {
      problem.textContent = error.status === 401 ? t("portal_login_failed") : explain(error);
      problem.hidden = false;
    }
  } }, h("h1", {}, t("portal_title")), field("phone", t("phone"), phone),
  field("key", t("access_key"), key), h("p", {}, h("button", { type: "submit" }, t("login_submit"))), problem));
}

function start() {
  draw();
  connect();
}

const picker = document.getElementById("lang");
picker.value = language();
picker.addEventListener("change", () => { setLanguage(picker.value); token ? draw() : login(); });
setLanguage(language());
translate(document);
if (token) start(); else login();
