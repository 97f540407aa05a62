// Acionamento: the ranked candidates for one attendance with every figure, why a provider
// is not listed, and the four modes (disabled, with the reason, where impossible); the
// attendance's offers and log follow live.
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { sentence, who } from "../history.js";
import { dateTime, explain, money, number, percent, serviceName, t, timeOfDay } from "../i18n.js";
import { address } from "./beneficiary.js";
import { countdown } from "../offer_view.js";
import { providerPicker } from "../provider_picker.js";

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
  const sent = (await api("GET", `/attendances/${attendanceId}/notifications`)).notifications;
  const head = h("div", { class: "card" },
    h("h1", {}, `${t("acionamento")} · ${t("col_attendance")} #${a.id}`),
    h("p", { id: "attendance-state" }, [serviceName(a.service) || t(`kind_${a.kind}`), t(`state_${a.state}`),
      a.provider_id ? `${t("col_provider")}: ${who(`provider:${a.provider_id}`, view.names)}` : "",
      a.dispatch_note ? t(`note_${a.dispatch_note}`) : ""].filter(Boolean).join(" · ")),
    [["origin", a.origin], ["destination", a.destination], ["last_seen", a.last_seen]].map(([name, p]) =>
      (p ? h("p", { class: "place" }, h("strong", {}, `${t(name)}: `), address(p.address)) : null)),
    a.scheduled_ms ? h("p", {}, t("scheduled_for", { when: dateTime(a.scheduled_ms) })) : null,
    h("p", {}, h("a", { href: `#/event/${a.event_id}` }, `${t("event")} #${a.event_id}`), " · ",
      h("a", { href: `#/map/${a.id}` }, t("nav_map"))));
  const parts = [head, trackCard(a, view.track_page)];
  if (["awaiting_dispatch", "offering"].includes(a.state) && a.origin) {
    const refused = new Set(offers.filter((o) => o.state === "refused").map((o) => o.provider_id));
    parts.push(await candidates(a, event, refused));
  }
  parts.push(h("div", { class: "card" }, h("h2", {}, t("offers")),
    offers.length
      ? h("table", { id: "offers" }, h("thead", {}, h("tr", {},
          h("th", {}, t("offer_made")), h("th", {}, t("col_provider")), h("th", {}, t("mode")), h("th", {}, t("col_state")))),
          h("tbody", {}, offers.map((o) => h("tr", { dataset: { offer: o.id } }, h("td", {}, timeOfDay(o.created_ms)),
            h("td", {}, who(`provider:${o.provider_id}`, view.names)),
            h("td", {}, t(`mode_${o.mode}`), delivery(sent.filter((n) => n.offer_id === o.id))),
            h("td", {}, o.state === "pending" ? [t("offer_pending"), " · ", countdown(o.deadline_ms, Date.now())] : offerState(o))))))
      : h("p", { class: "muted" }, t("no_offers"))));
  parts.push(h("div", { class: "card" }, h("h2", {}, t("log")),
    h("ol", { id: "log" }, view.log.map((e) => h("li", {}, sentence(e, view.names))))));
  return parts;
}

// The beneficiary's live page: sent or not, what they confirmed, their rating.
function trackCard(a, page) {
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const note = h("p", { class: "muted", "aria-live": "polite", id: "track-note" });
  const act = async (call) => {
    problem.hidden = true;
    try { await call(); } catch (error) { problem.textContent = explain(error); problem.hidden = false; }
  };
  const lines = [];
  if (!page) lines.push(h("p", { class: "muted" }, t("track_page_none")));
  else {
    lines.push(h("p", {}, page.active ? t("track_page_active", { at: timeOfDay(page.created_ms) }) : t("track_page_inactive")));
    if (page.confirmed) {
      const far = page.confirmed.distance_m == null ? "–" : `${number(page.confirmed.distance_m / 1000, { maximumFractionDigits: 1 })} km`;
      lines.push(h("p", { id: "track-confirmed" }, t("track_page_confirmed", { at: timeOfDay(page.confirmed.at_ms), distance: far }),
        page.accepted_ms ? ` ${t("track_page_accepted")}` : null));
      if (!page.accepted_ms && ["awaiting_dispatch", "offering"].includes(a.state)) {
        lines.push(h("button", { type: "button", id: "track-accept", onclick: () =>
          act(() => api("POST", `/attendances/${a.id}/track-page/accept-position`, {})) }, t("track_page_accept")));
      }
    }
    if (page.rating) lines.push(h("p", { id: "track-rating" }, t("track_page_rating", { stars: "★".repeat(page.rating) }),
      page.comment ? ` “${page.comment}”` : ""));
  }
  return h("div", { class: "card", id: "track-page" }, h("h2", {}, t("track_page")), ...lines,
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: () => act(async () => {
        const sent = await api("POST", `/attendances/${a.id}/track-page`, {});
        const outcome = sent.outcome.startsWith("failed") ? "failed" : sent.outcome;
        note.textContent = t("track_page_sent", { phone: sent.phone, outcome: t(`outcome_${outcome}`) });
      }) }, t("track_page_send")),
      page && page.active ? h("button", { type: "button", class: "secondary", onclick: () =>
        act(() => api("DELETE", `/attendances/${a.id}/track-page`)) }, t("track_page_revoke")) : null),
    note, problem);
}

// The messages that carried a link offer: channel, recipient, when, and what became of it.
function delivery(notes) {
  if (!notes.length) return null;
  return h("ul", { class: "delivery" }, notes.map((n) => {
    const outcome = n.outcome.startsWith("failed") ? "failed" : n.outcome;
    return h("li", {}, t("sent_by", { channel: t(`channel_${n.channel}`), to: n.recipient, at: timeOfDay(n.at_ms) }),
      " · ", t(`outcome_${outcome}`));
  }));
}

function offerState(o) {
  const state = t(`offer_${o.state}`);
  if (o.state === "refused" && o.reason) return `${state}: ${t(`reason_${o.reason}`)}`;
  if (o.state === "accepted" && o.eta_min != null) return `${state} · ${t("minutes", { n: o.eta_min })}`;
  return state;
}

async function candidates(a, event, refused) {
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
  // A provider who refused this job goes to the bottom, marked.
  const rows = [...byId.values()].sort((x, y) =>
    (refused.has(x.provider_id) - refused.has(y.provider_id)) || (x.score - y.score));
  // A mode's list holds its best 20: a provider listed by another mode may still take the
  // job by this one. Ask the hub for each mode a listed provider is missing from.
  await Promise.all(rows.flatMap((c) => MODES.filter((mode) => !c.modes.has(mode)).map((mode) =>
    api("POST", "/match/explain", { ...query, mode, provider_id: c.provider_id })
      .then((found) => { if (found.eligible) c.modes.add(mode); })
      .catch(() => {}))));
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const act = async (call) => {
    problem.hidden = true;
    try { await call(); } catch (error) { problem.textContent = explain(error); problem.hidden = false; }
  };
  const offer = (c, mode) => act(async () => {
    if (mode === "verbal") {
      const eta = await askEta(c.name);
      if (!eta) return;
      await api("POST", `/attendances/${a.id}/verbal`, { provider_id: c.provider_id, eta_min: eta });
    } else {
      await api("POST", `/attendances/${a.id}/offers`, { provider_id: c.provider_id, mode });
    }
  });
  const why = h("ul", { id: "why" });
  // "Why is this provider not listed?": the operator types a piece of the name and picks.
  const picker = providerPicker("provider-names", { required: true });
  const table = h("table", { id: "candidates" },
    h("thead", {}, h("tr", {}, ["col_provider", "connectivity", "col_place", "distance", "eta", "price",
      "on_time", "acceptance", "rating", "preferred", "partner", "phone", "modes"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, rows.length ? rows.map((c) => h("tr", { dataset: { provider: c.provider_id }, class: refused.has(c.provider_id) ? "refused" : null },
      h("td", {}, c.name, refused.has(c.provider_id) ? h("span", { class: "tag" }, ` ${t("refused_this")}`) : null), h("td", {}, t(`conn_${c.connectivity}`)), h("td", {}, c.city),
      h("td", {}, `${number(c.distance_m / 1000, { maximumFractionDigits: 1 })} km (${c.source === "gps" ? "GPS" : t("base")})`),
      h("td", {}, t("minutes", { n: Math.round(c.eta_min) })),
      h("td", {}, c.price_cents == null ? "–" : money(c.price_cents)),
      h("td", {}, percent(c.on_time_pct / 100)), h("td", {}, percent(c.acceptance_pct / 100)),
      h("td", { class: "rating" }, c.rating == null ? "–" : `${number(c.rating)} ★`),
      h("td", {}, c.preferred ? "★" : ""), h("td", {}, c.partner ? "✓" : ""), h("td", {}, c.phone),
      h("td", { class: "modes" }, MODES.map((mode) => h("button", {
        type: "button",
        disabled: !c.modes.has(mode),
        title: c.modes.has(mode) ? "" : t("mode_impossible"),
        "aria-label": `${t(`mode_${mode}`)} ${c.name}`,
        onclick: () => offer(c, mode),
      }, t(`mode_${mode}`)))))) : h("tr", {}, h("td", { colspan: 13, class: "empty" }, t("no_candidates")))));
  return h("div", { class: "card" },
    h("h2", {}, t("candidates")),
    h("p", {}, h("button", { type: "button", onclick: () => act(() => api("POST", `/attendances/${a.id}/auto`, {})) }, t("auto_dispatch"))),
    table, problem,
    h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      why.replaceChildren();
      const chosen = picker.chosen();
      if (!chosen) {
        why.append(h("li", {}, t("pick_provider")));
        return;
      }
      await act(async () => {
        const found = await api("POST", "/match/explain", { ...query, mode: "app", provider_id: chosen });
        const listed = byId.has(chosen);
        why.append(...(found.eligible
          ? [h("li", {}, t(listed ? "eligible" : "eligible_not_listed"))]
          : found.reasons.map((r) => h("li", {}, t(`rule_${r.rule}`)))));
      });
    } }, field("why-provider", t("why_not_listed"), picker.input), picker.list, h("button", { type: "submit", class: "secondary" }, t("explain"))),
    why);
}

// The ETA the provider gave on the phone, in a dialog that accepts 1 to 1440 minutes only.
function askEta(name) {
  return new Promise((resolve) => {
    const input = h("input", { type: "number", min: 1, max: 1440, step: 1, required: true, value: 30 });
    const dialog = h("dialog", { id: "verbal-dialog", "aria-labelledby": "verbal-title" });
    dialog.append(h("form", { method: "dialog" },
      h("h2", { id: "verbal-title" }, t("verbal_title", { name })),
      field("verbal-eta", t("eta_prompt"), input),
      h("div", { class: "row" },
        h("button", { type: "submit", value: "ok" }, t("verbal_confirm")),
        h("button", { type: "button", class: "secondary", onclick: () => dialog.close("") }, t("cancel")))));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? Number(input.value) : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}
