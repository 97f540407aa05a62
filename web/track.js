// The beneficiary's live page (a link sent by SMS): the request, then the provider coming
// on a map with the ETA and the steps, then a rating.  It reads a server-sent event
// stream (/track/<token>/stream): no socket, nothing it can do but what its buttons say.
import { api } from "./api.js";
import { field, h } from "./dom.js";
import { explain, language, number, serviceName, setLanguage, t, timeOfDay, translate } from "./i18n.js";
import { address } from "./pages/beneficiary.js";

const main = document.getElementById("main");
const token = location.hash.slice(1);
const path = `/track/${encodeURIComponent(token)}`;
let view = null;
let map = null;
let config = {};
const markers = {};

function problem(error) {
  return h("p", { class: "error", role: "alert" }, explain(error));
}

async function act(call) {
  try {
    view = await call();
    draw();
  } catch (error) {
    main.prepend(problem(error));
  }
}

// Before dispatch: share the browser's position, or drag the pin, and confirm.
function confirmCard() {
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const send = (lat, lng) => act(() => api("POST", `${path}/position`, { lat, lng }));
  return h("div", { class: "card", id: "confirm" },
    h("h2", {}, t("track_confirm_title")),
    h("p", {}, t("track_confirm_help")),
    h("div", { class: "row" },
      h("button", { type: "button", id: "share", onclick: () => {
        status.textContent = t("track_locating");
        navigator.geolocation.getCurrentPosition(
          (p) => send(p.coords.latitude, p.coords.longitude),
          () => { status.textContent = t("location_unavailable"); },
          { enableHighAccuracy: true, timeout: 15000 });
      } }, t("track_share")),
      h("button", { type: "button", class: "secondary", id: "use-pin", onclick: () => {
        const here = markers.me ? markers.me.getLatLng() : null;
        if (here) send(here.lat, here.lng);
      } }, t("track_use_pin"))),
    view.confirmed ? h("p", { id: "confirmed" }, t("track_confirmed", { at: timeOfDay(view.confirmed.at_ms) })) : null,
    status);
}

function rateCard() {
  const stars = h("select", { required: true }, [5, 4, 3, 2, 1].map((n) => h("option", { value: n }, "★".repeat(n))));
  const comment = h("textarea", { rows: 3, maxlength: 1000 });
  return h("form", { class: "card", id: "rate", onsubmit: (ev) => {
    ev.preventDefault();
    act(() => api("POST", `${path}/rating`, { stars: Number(stars.value), comment: comment.value }));
  } },
  h("h2", {}, t("track_rate_title")),
  field("stars", t("track_stars"), stars),
  field("comment", t("track_comment"), comment),
  h("button", { type: "submit" }, t("track_rate_send")));
}

function timeline() {
  return h("ol", { class: "timeline", id: "timeline" }, view.steps.map((s) =>
    h("li", {}, h("strong", {}, timeOfDay(s.at_ms)), " ", t(`track_step_${s.step}`))));
}

function draw() {
  const v = view;
  const what = v.service ? serviceName(v.service) : t(`kind_${v.kind}`);
  const parts = [
    h("div", { class: "card", id: "request" },
      h("h1", {}, what),
      h("p", { id: "state" }, t(`state_${v.state}`)),
      v.origin ? h("p", {}, h("strong", {}, `${t("origin")}: `), address(v.origin)) : null,
      v.helper ? h("p", { id: "helper" }, t("track_helper", { name: v.helper.first_name, service: serviceName(v.helper.service) })) : null,
      v.eta_ms ? h("p", { id: "eta" }, t("track_eta", { at: timeOfDay(v.eta_ms), minutes: number(Math.max(0, Math.round((v.eta_ms - Date.now()) / 60000))) })) : null),
  ];
  if (v.can_confirm) parts.push(confirmCard());
  parts.push(h("div", { class: "card" }, h("div", { class: "place-map", id: "track-map", role: "region", "aria-label": t("map_title") })));
  parts.push(h("div", { class: "card" }, h("h2", {}, t("track_steps")), timeline()));
  if (v.can_rate) parts.push(rateCard());
  else if (v.rating) parts.push(h("div", { class: "card", id: "rated" }, h("p", {}, t("track_thanks", { stars: "★".repeat(v.rating) }))));
  if (map) { map.remove(); map = null; }
  main.replaceChildren(...parts);
  drawMap();
}

function drawMap() {
  const L = window.L;
  const box = document.getElementById("track-map");
  if (!L || !box) return;
  const v = view;
  const origin = v.confirmed || v.origin_point;
  map = L.map(box, { zoomControl: true }).setView(origin ? [origin.lat, origin.lng] : [-23.55, -46.63], 15);
  if (config.tiles_url) L.tileLayer(config.tiles_url, { maxZoom: 19, attribution: config.tiles_attribution }).addTo(map);
  const pin = (lat, lng, cls, label, draggable = false) => L.marker([lat, lng], {
    draggable, title: label, icon: L.divIcon({ className: `pin ${cls}`, html: label[0], iconSize: [28, 28], iconAnchor: [14, 28] }),
  }).addTo(map);
  if (origin) markers.me = pin(origin.lat, origin.lng, "pin-origin", t("track_you"), v.can_confirm);
  if (v.helper_position) {
    markers.helper = pin(v.helper_position.lat, v.helper_position.lng, "pin-destination", v.helper.first_name);
    markers.helper.getElement()?.setAttribute("id", "helper-marker");
    markers.helper.getElement()?.setAttribute("data-lat", v.helper_position.lat);
    map.fitBounds([[origin.lat, origin.lng], [v.helper_position.lat, v.helper_position.lng]], { padding: [40, 40], animate: false });
  }
}

function closed(code) {
  if (map) { map.remove(); map = null; }
  main.replaceChildren(h("div", { class: "card", id: "gone" }, h("p", { role: "alert" }, explain({ code }))));
}

async function start() {
  config = await api("GET", "/console/config.json").catch(() => ({}));
  try {
    view = await api("GET", path);
  } catch (error) {
    closed(error.code);
    return;
  }
  draw();
  const events = new EventSource(`${path}/stream`);
  events.onmessage = (message) => {
    const next = JSON.parse(message.data);
    const moved = JSON.stringify(next) !== JSON.stringify(view);
    view = next;
    // Only the helper moved: move the marker, keep the page (a form being filled stays).
    if (moved && document.activeElement?.closest("form")) return;
    if (moved) draw();
  };
  events.addEventListener("closed", (message) => {
    events.close();
    closed(JSON.parse(message.data).code);
  });
}

const picker = document.getElementById("lang");
picker.value = language();
picker.addEventListener("change", () => { setLanguage(picker.value); if (view) draw(); });
setLanguage(language());
translate(document);
start();
