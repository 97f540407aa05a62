// An open event: the running TMA clock, its attendances, and the attendance form with the
// four address sources (Google Maps URL, partner establishment, the beneficiary's
// address, a pin dragged on the map).
import { api } from "../api.js";
import { field, h, localInput, minutesClock } from "../dom.js";
import { explain, number, serviceName, t } from "../i18n.js";
import { details, usageHistory } from "./beneficiary.js";

export async function render(main, { params, config }) {
  const eventId = Number(params[0]);
  const view = await api("GET", `/events/${eventId}`);
  const event = view.event;
  const [beneficiary, usage, catalogue, partners, list] = await Promise.all([
    api("GET", `/beneficiaries/${event.beneficiary_id}`),
    api("GET", `/beneficiaries/${event.beneficiary_id}/usage`),
    api("GET", "/services"),
    api("GET", `/clients/${event.client_id}/partners`),
    api("GET", `/events/${eventId}/attendances`),
  ]);
  const tma = h("span", { class: "tma", "aria-label": "TMA" });
  const tick = () => {
    const end = event.intake_done_ms || Date.now();
    tma.textContent = minutesClock(Date.now() - (end - event.opened_ms));
  };
  tick();
  const timer = setInterval(tick, 1000);
  const finish = h("button", { type: "button", class: "secondary", disabled: Boolean(event.intake_done_ms),
    onclick: async () => {
      const done = await api("POST", `/events/${eventId}/finish-intake`, {});
      event.intake_done_ms = done.event.intake_done_ms;
      finish.disabled = true;
      tick();
    } }, t("finish_intake"));
  const who = beneficiary.beneficiary;
  const earlier = await usageHistory(who.id, eventId);
  const form = attendanceForm({ eventId, who, usage, catalogue, partners: partners.partners, config });
  const closed = event.state === "closed";
  if (closed) form.element.hidden = true;
  const reason = h("input", { required: true });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  // Close or reopen the event, with the reason the hub logs.
  const lifecycle = h("form", { class: "row", id: "event-state", onsubmit: async (ev) => {
    ev.preventDefault();
    problem.hidden = true;
    try {
      await api("POST", `/events/${eventId}/${closed ? "reopen" : "close"}`, { reason: reason.value });
      window.dispatchEvent(new HashChangeEvent("hashchange")); // drawn again, as it now is
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  } }, field("event-reason", t(closed ? "reopen_reason" : "close_reason"), reason),
  h("button", { type: "submit", class: "secondary" }, t(closed ? "reopen_event" : "close_event")));
  main.replaceChildren(
    h("div", { class: "card" },
      h("h1", {}, `${t("event")} #${eventId} · ${t(`event_${event.type}`)} · ${t(`state_${event.state}`)}`),
      h("p", {}, `${who.name} · TMA `, tma, " ", finish),
      details(who), earlier,
      lifecycle, problem),
    h("div", { class: "card" },
      h("h2", {}, t("attendances")),
      list.attendances.length
        ? h("ul", { id: "attendances" }, list.attendances.map((a) => h("li", {},
            h("a", { href: `#/attendance/${a.id}` }, `#${a.id} ${a.service ? serviceName(a.service) : t(`kind_${a.kind}`)}`),
            ` · ${t(`state_${a.state}`)}`)))
        : h("p", { class: "muted" }, t("no_rows"))),
    form.element);
  form.mounted();
  return () => { clearInterval(timer); form.dispose(); };
}

function attendanceForm({ eventId, who, usage, catalogue, partners, config }) {
  const kind = h("select", {}, ["assistance", "question", "theft"].map((k) => h("option", { value: k }, t(`kind_${k}`))));
  const covered = new Map(usage.usage.map((u) => [u.service, u]));
  // No service chosen for the operator: each shows the plan's use and its km limit.
  const service = h("select", { required: true }, h("option", { value: "" }, t("choose_service")), catalogue.services.map((s) => {
    const use = covered.get(s.code);
    const km = use && use.limit.km_limit != null ? ` · ${t("km_limit", { km: number(use.limit.km_limit) })}` : "";
    const label = use
      ? `${serviceName(s.code)} — ${t("used_of", { used: use.used, limit: use.limit.uses_per_period ?? "∞" })}${km}`
      : `${serviceName(s.code)} — ${t("not_covered")}`;
    return h("option", { value: s.code }, label);
  }));
  const avulso = h("input", { type: "checkbox" });
  const trackPage = h("input", { type: "checkbox", checked: true });
  const avulsoReason = h("input", {});
  const requester = h("input", { required: true, autocomplete: "name", value: who.name });
  const phone = h("input", { required: true, type: "tel", value: who.phones[0] || "" });
  const notes = h("textarea", { rows: 2 });
  const scheduled = h("input", { type: "datetime-local" });
  const at = h("input", { type: "datetime-local", required: true, value: localInput(Date.now()) });
  const police = h("input", {});
  const origin = place("origin", t("origin"), { who, partners, pin: "A" });
  const destination = place("destination", t("destination"), { who, partners, pin: "B" });
  const lastSeen = place("last_seen", t("last_seen"), { who, partners, pin: "V" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const mapBox = h("div", { class: "place-map", id: "form-map", role: "region", "aria-label": t("map_title") });
  let map = null;
  const element = h("form", { class: "card", id: "attendance-form", onsubmit: async (ev) => {
    ev.preventDefault();
    problem.hidden = true;
    const body = {
      kind: kind.value,
      requester_name: requester.value,
      requester_phone: phone.value,
      notes: notes.value,
      at_ms: new Date(at.value).getTime(),
    };
    if (kind.value === "assistance") {
      body.service = service.value;
      body.avulso = avulso.checked;
      body.track_page = trackPage.checked;
      if (avulso.checked) body.avulso_reason = avulsoReason.value;
      if (origin.filled()) body.origin = origin.value();
      const needs = catalogue.services.find((s) => s.code === service.value)?.needs_destination;
      if (needs || destination.filled()) body.destination = destination.value();
    }
    if (kind.value === "theft") {
      body.police_report = police.value;
      if (lastSeen.filled()) body.last_seen = lastSeen.value();
    }
    if (scheduled.value) body.scheduled_ms = new Date(scheduled.value).getTime();
    try {
      const made = await api("POST", `/events/${eventId}/attendances`, body);
      location.hash = `#/attendance/${made.id}`;
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  } },
  h("h2", {}, t("new_attendance")),
  h("div", { class: "row" }, field("kind", t("kind"), kind), field("attendance-at", t("attendance_at"), at)),
  h("div", { class: "row", dataset: { for: "assistance" } }, field("service", t("service"), service)),
  h("div", { class: "row", dataset: { for: "assistance" } }, field("avulso", t("avulso"), avulso), field("avulso-reason", t("avulso_reason"), avulsoReason)),
  h("div", { class: "row" }, field("requester", t("requester"), requester), field("requester-phone", t("phone"), phone)),
  field("attendance-notes", t("notes_for_provider"), notes),
  h("div", { class: "row", dataset: { for: "assistance" } }, field("scheduled", t("scheduled"), scheduled),
    field("track-page-sms", t("track_page_sms"), trackPage)),
  h("div", { class: "row", dataset: { for: "theft" } }, field("police-report", t("police_report"), police)),
  origin.element, destination.element, lastSeen.element, mapBox,
  h("button", { type: "submit" }, t("register_attendance")), problem);
  // The form shows what the kind and the service need: police report for a theft only; no
  // places for a question; the destination for services that need one.
  const adapt = () => {
    element.querySelectorAll("[data-for]").forEach((el) => { el.hidden = el.dataset.for !== kind.value; });
    service.required = kind.value === "assistance";
    police.required = kind.value === "theft";
    const needs = catalogue.services.find((s) => s.code === service.value)?.needs_destination;
    origin.element.hidden = kind.value !== "assistance";
    destination.element.hidden = kind.value !== "assistance" || !needs;
    lastSeen.element.hidden = kind.value !== "theft";
    mapBox.hidden = kind.value === "question";
    if (map) map.invalidateSize();
    avulsoReason.required = avulso.checked;
  };
  kind.addEventListener("change", adapt);
  service.addEventListener("change", adapt);
  avulso.addEventListener("change", adapt);
  element.addEventListener("input", () => { problem.hidden = true; });
  adapt();

  return {
    element,
    mounted() {
      if (!window.L) return;
      map = window.L.map(mapBox).setView([-23.55, -46.63], 12);
      if (config.tiles_url) window.L.tileLayer(config.tiles_url, { attribution: config.tiles_attribution }).addTo(map);
      origin.attach(map);
      destination.attach(map);
      lastSeen.attach(map);
    },
    dispose() { if (map) map.remove(); },
  };
}

// One address with its sources; a draggable pin on the form's map follows it.
function place(id, title, { who, partners, pin }) {
  const street = h("input", {});
  const number = h("input", {});
  const district = h("input", {});
  const city = h("input", {});
  const cep = h("input", { inputmode: "numeric", placeholder: "01310-100" });
  const choices = h("ul", { class: "results", "aria-live": "polite" });
  const lat = h("input", { type: "hidden", id: `${id}-lat` });
  const lng = h("input", { type: "hidden", id: `${id}-lng` });
  const url = h("input", { type: "url", placeholder: "https://www.google.com/maps/..." });
  const partner = h("select", {}, h("option", { value: "" }, "—"),
    partners.map((p, i) => h("option", { value: i }, p.name)));
  let marker = null;
  let mapRef = null;
  const setPoint = (la, ln) => {
    lat.value = la;
    lng.value = ln;
    if (mapRef) {
      if (!marker) {
        const icon = window.L.divIcon({ className: `pin pin-${id}`, html: pin, iconSize: [28, 28], iconAnchor: [14, 28] });
        marker = window.L.marker([la, ln], { draggable: true, title, icon }).addTo(mapRef);
        marker.on("dragend", () => { const p = marker.getLatLng(); lat.value = p.lat.toFixed(6); lng.value = p.lng.toFixed(6); });
      } else marker.setLatLng([la, ln]);
      // No animation: a pan still running when "Registrar" re-renders the page would touch
      // the removed map (Leaflet's "_leaflet_pos" error).
      mapRef.setView([la, ln], 14, { animate: false });
    }
  };
  const fill = (address) => {
    street.value = address.street || "";
    number.value = address.number || "";
    district.value = address.district || "";
    city.value = address.city || "";
    cep.value = address.cep || cep.value;
  };
  const problem = h("span", { class: "error", role: "alert" });
  const offer = (results) => {
    choices.replaceChildren(...results.map((r) => h("li", {}, h("button", { type: "button", class: "secondary",
      onclick: () => { fill({ ...r.address, number: r.address.number || number.value }); setPoint(r.lat, r.lng); choices.replaceChildren(); },
    }, r.label || [r.address.street, r.address.number, r.address.district, r.address.city].filter(Boolean).join(", ")))));
    if (!results.length) choices.append(h("li", { class: "muted" }, t("no_address")));
  };
  const lookup = async (call) => {
    problem.textContent = "";
    try { await call(); } catch (error) { problem.textContent = explain(error); }
  };
  const element = h("fieldset", { class: "card", id: `${id}-place` }, h("legend", {}, title),
    h("div", { class: "row" },
      field(`${id}-cep`, "CEP", cep),
      h("button", { type: "button", class: "secondary", onclick: () => lookup(async () => {
        const found = await api("GET", `/places/cep/${encodeURIComponent(cep.value)}`);
        fill({ ...found.address, number: number.value });
        offer(found.results);
      }) }, t("find_cep")),
      h("button", { type: "button", class: "secondary", onclick: () => lookup(async () => {
        const q = new URLSearchParams({ street: street.value, number: number.value,
          district: district.value, city: city.value, cep: cep.value });
        offer((await api("GET", `/places/search?${q}`)).results);
      }) }, t("find_address"))),
    choices,
    h("div", { class: "row" },
      field(`${id}-url`, t("maps_url"), url),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        problem.textContent = "";
        try {
          const found = await api("POST", "/places/maps-url", { url: url.value });
          setPoint(found.lat, found.lng);
        } catch (error) { problem.textContent = explain(error); }
      } }, t("use_url"))),
    h("div", { class: "row" },
      field(`${id}-partner`, t("partner"), partner),
      h("button", { type: "button", class: "secondary", onclick: () => {
        const chosen = partners[Number(partner.value)];
        if (!chosen) return;
        fill({ ...chosen.address, street: chosen.address.street || chosen.name });
        setPoint(chosen.lat, chosen.lng);
      } }, t("use_partner")),
      h("button", { type: "button", class: "secondary", onclick: () => {
        fill(who.address);
        if (who.address.lat != null) setPoint(who.address.lat, who.address.lng);
      } }, t("use_home"))),
    problem,
    h("div", { class: "row" },
      field(`${id}-street`, t("street"), street), field(`${id}-number`, t("number"), number),
      field(`${id}-district`, t("district"), district), field(`${id}-city`, t("city"), city)),
    lat, lng);
  return {
    element,
    attach(map) { mapRef = map; if (lat.value) setPoint(Number(lat.value), Number(lng.value)); },
    filled: () => Boolean(lat.value),
    value: () => ({
      address: { street: street.value, number: number.value, district: district.value, city: city.value,
        cep: cep.value },
      lat: Number(lat.value),
      lng: Number(lng.value),
    }),
  };
}
