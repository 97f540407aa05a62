// Acionamento: the ranked candidates for one attendance with every figure, why a provider
// is not listed, and the four modes (disabled, with the reason, where impossible); the
// attendance's offers and log follow live.
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";

const MODES = ["app", "web", "link", "verbal"];

export async function render(main, { params, stream }) {
  const attendanceId = Number(params[0]);
  const body = h("div");
  main.replaceChildren(body);
  const draw = async () => body.replaceChildren(...(await sections(attendanceId)));
  await draw();
  const topic = `attendance:${attendanceId}`;
  const onUpdate = ({ detail }) => { if (detail.topic === topic) draw(); };
  stream.addEventListener("update", onUpdate);
  stream.subscribe(topic);
  return () => { stream.removeEventListener("update", onUpdate); stream.unsubscribe(topic); };
}

async function sections(attendanceId) {
  const view = await api("GET", `/attendances/${attendanceId}`);
  const a = view.attendance;
  const event = (await api("GET", `/events/${a.event_id}`)).event;
  const offers = (await api("GET", `/attendances/${attendanceId}/offers`)).offers;
  const head = h("div", { class: "card" },
    h("h1", {}, `${t("acionamento")} · ${t("col_attendance")} #${a.id}`),
    h("p", { id: "attendance-state" }, `${a.service || ""} · ${t(`state_${a.state}`)}`,
      a.provider_id ? ` · ${t("col_provider")} #${a.provider_id}` : "",
      a.dispatch_note ? ` · ${a.dispatch_note}` : ""),
    h("p", {}, h("a", { href: `#/event/${a.event_id}` }, `${t("event")} #${a.event_id}`), " · ",
      h("a", { href: `#/map/${a.id}` }, t("nav_map"))));
  const parts = [head];
  if (["awaiting_dispatch", "offering"].includes(a.state) && a.origin) {
    parts.push(await candidates(a, event));
  }
  parts.push(h("div", { class: "card" }, h("h2", {}, t("offers")),
    offers.length
      ? h("table", { id: "offers" }, h("thead", {}, h("tr", {},
          h("th", {}, "#"), h("th", {}, t("col_provider")), h("th", {}, t("mode")), h("th", {}, t("col_state")))),
          h("tbody", {}, offers.map((o) => h("tr", {}, h("td", {}, o.id), h("td", {}, `#${o.provider_id}`),
            h("td", {}, t(`mode_${o.mode}`)), h("td", {}, t(`offer_${o.state}`))))))
      : h("p", { class: "muted" }, t("no_offers"))));
  parts.push(h("div", { class: "card" }, h("h2", {}, t("log")),
    h("ol", { id: "log" }, view.log.map((e) => h("li", {}, `${new Date(e.at_ms).toLocaleTimeString()} · ${e.action} · ${e.actor}${e.detail ? ` · ${e.detail}` : ""}`)))));
  return parts;
}

async function candidates(a, event) {
  const query = {
    origin: { lat: a.origin.lat, lng: a.origin.lng },
    service: a.service,
    client_id: event.client_id,
    limit: 20,
  };
  if (a.destination) query.destination = { lat: a.destination.lat, lng: a.destination.lng };
  const lists = await Promise.all(MODES.map((mode) => api("POST", "/match", { ...query, mode })
    .then((page) => page.candidates).catch(() => [])));
  const byId = new Map();
  lists.forEach((list, i) => list.forEach((c) => {
    const seen = byId.get(c.provider_id) || { ...c, modes: new Set() };
    seen.modes.add(MODES[i]);
    byId.set(c.provider_id, seen);
  }));
  const rows = [...byId.values()].sort((x, y) => x.score - y.score);
  // A mode's list holds its best 20: a provider listed by another mode may still take the
  // job by this one. Ask the hub for each mode a listed provider is missing from.
  await Promise.all(rows.flatMap((c) => MODES.filter((mode) => !c.modes.has(mode)).map((mode) =>
    api("POST", "/match/explain", { ...query, mode, provider_id: c.provider_id })
      .then((found) => { if (found.eligible) c.modes.add(mode); })
      .catch(() => {}))));
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const act = async (call) => {
    problem.hidden = true;
    try { await call(); } catch (error) { problem.textContent = error.message; problem.hidden = false; }
  };
  const offer = (c, mode) => act(async () => {
    if (mode === "verbal") {
      const eta = Number(prompt(t("eta_prompt"), "30"));
      if (!eta) return;
      await api("POST", `/attendances/${a.id}/verbal`, { provider_id: c.provider_id, eta_min: eta });
    } else {
      await api("POST", `/attendances/${a.id}/offers`, { provider_id: c.provider_id, mode });
    }
  });
  const why = h("ul", { id: "why" });
  const whoId = h("input", { type: "number", min: 1 });
  const table = h("table", { id: "candidates" },
    h("thead", {}, h("tr", {}, ["col_provider", "connectivity", "col_place", "distance", "eta", "price",
      "on_time", "acceptance", "preferred", "partner", "phone", "modes"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, rows.length ? rows.map((c) => h("tr", { dataset: { provider: c.provider_id } },
      h("td", {}, c.name), h("td", {}, t(`conn_${c.connectivity}`)), h("td", {}, c.city),
      h("td", {}, `${(c.distance_m / 1000).toFixed(1)} km (${c.source === "gps" ? "GPS" : t("base")})`),
      h("td", {}, `${Math.round(c.eta_min)} min`),
      h("td", {}, c.price_cents == null ? "–" : `R$ ${(c.price_cents / 100).toFixed(2)}`),
      h("td", {}, `${c.on_time_pct}%`), h("td", {}, `${c.acceptance_pct}%`),
      h("td", {}, c.preferred ? "★" : ""), h("td", {}, c.partner ? "✓" : ""), h("td", {}, c.phone),
      h("td", { class: "modes" }, MODES.map((mode) => h("button", {
        type: "button",
        disabled: !c.modes.has(mode),
        title: c.modes.has(mode) ? "" : t("mode_impossible"),
        "aria-label": `${t(`mode_${mode}`)} ${c.name}`,
        onclick: () => offer(c, mode),
      }, t(`mode_${mode}`)))))) : h("tr", {}, h("td", { colspan: 12, class: "empty" }, t("no_candidates")))));
  return h("div", { class: "card" },
    h("h2", {}, t("candidates")),
    h("p", {}, h("button", { type: "button", onclick: () => act(() => api("POST", `/attendances/${a.id}/auto`, {})) }, t("auto_dispatch"))),
    table, problem,
    h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      why.replaceChildren();
      await act(async () => {
        const found = await api("POST", "/match/explain", { ...query, mode: "app", provider_id: Number(whoId.value) });
        const listed = byId.has(Number(whoId.value));
        why.append(...(found.eligible
          ? [h("li", {}, t(listed ? "eligible" : "eligible_not_listed"))]
          : found.reasons.map((r) => h("li", {}, r.text))));
      });
    } }, field("why-provider", t("why_not_listed"), whoId), h("button", { type: "submit", class: "secondary" }, t("explain"))),
    why);
}
