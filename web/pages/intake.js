// New event: find the beneficiary (name, plate or CPF), see the vehicle, plan, script and
// event history, choose the reason, open the event (its TMA clock starts then).
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { dateTime, explain, t } from "../i18n.js";
import { details, usageHistory } from "./beneficiary.js";

const EVENT_TYPES = ["out_of_fuel", "flat_tyre", "electrical_fault", "mechanical_fault",
  "battery", "collision", "theft", "locked_out", "other"];

export async function render(main, { config }) {
  if (config.client_first) {
    const clients = (await api("GET", "/clients?limit=1000")).clients.filter((c) => c.active);
    const picker = h("select", { required: true }, h("option", { value: "" }, "—"),
      clients.map((c) => h("option", { value: c.id }, c.name)));
    const script = h("div", { class: "script", hidden: true, "aria-live": "polite" });
    const next = h("div");
    picker.addEventListener("change", () => {
      const client = clients.find((c) => String(c.id) === picker.value);
      script.textContent = client ? client.script : "";
      script.hidden = !client || !client.script;
      if (client) searchForm(next, client.id); else next.replaceChildren();
    });
    main.replaceChildren(h("div", { class: "card" }, h("h1", {}, t("new_event")),
      field("client", t("client_first"), picker), script), next);
    picker.focus();
    return;
  }
  searchForm(main, null);
}

function searchForm(main, clientId) {
  const query = h("input", { type: "search", required: true, autocomplete: "off" });
  const results = h("ul", { class: "results", "aria-live": "polite" });
  const chosen = h("div");
  const search = h("form", { class: "card", role: "search", onsubmit: async (event) => {
    event.preventDefault();
    results.replaceChildren();
    try {
      const scope = clientId ? `&client_id=${clientId}` : "";
      const found = await api("GET", `/beneficiaries/search?q=${encodeURIComponent(query.value)}${scope}`);
      if (!found.results.length) results.append(h("li", { class: "muted" }, t("no_beneficiary")));
      for (const hit of found.results) {
        const b = hit.beneficiary;
        results.append(h("li", {},
          h("button", { type: "button", class: "secondary", onclick: () => choose(hit, chosen) },
            t("choose")), " ",
          h("strong", {}, b.name), ` · CPF ${b.cpf} · `,
          b.vehicles.map((v) => v.plate).join(", "), hit.plan ? ` · ${hit.plan.name}` : ""));
      }
    } catch (error) {
      results.append(h("li", { class: "error", role: "alert" }, explain(error)));
    }
  } },
  clientId ? null : h("h1", {}, t("new_event")),
  field("search", t("search_beneficiary"), query),
  h("button", { type: "submit" }, t("search")));
  main.replaceChildren(search, results, chosen);
  query.focus();
}

async function choose(hit, into) {
  const b = hit.beneficiary;
  const [client, history, usage] = await Promise.all([
    api("GET", `/clients/${b.client_id}`),
    api("GET", `/beneficiaries/${b.id}/events`),
    usageHistory(b.id),
  ]);
  const vehicle = h("select", {}, b.vehicles.map((v) =>
    h("option", { value: v.id }, [v.plate, v.model, v.year, v.colour].filter(Boolean).join(" "))));
  const type = h("select", {}, EVENT_TYPES.map((code) => h("option", { value: code }, t(`event_${code}`))));
  const notes = h("textarea", { rows: 2 });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  into.replaceChildren(h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const opened = await api("POST", "/events", {
        beneficiary_id: b.id,
        vehicle_id: vehicle.value ? Number(vehicle.value) : null,
        type: type.value,
        notes: notes.value,
      });
      location.hash = `#/event/${opened.event.id}`;
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  } },
  h("h2", {}, b.name),
  h("p", {}, `${t("plan")}: ${hit.plan ? hit.plan.name : "—"} · ${t("client")}: ${client.name}`),
  details(b),
  client.script ? h("div", { class: "script", "aria-label": t("script") }, client.script) : null,
  h("h3", {}, t("history")),
  history.events.length
    ? h("ul", {}, history.events.map((e) => h("li", {}, `#${e.id} ${t(`event_${e.type}`)} · ${dateTime(e.opened_ms)}`)))
    : h("p", { class: "muted" }, t("no_history")),
  usage,
  b.vehicles.length ? field("vehicle", t("vehicle"), vehicle) : null,
  field("event-type", t("event_type"), type),
  field("event-notes", t("notes"), notes),
  h("button", { type: "submit" }, t("open_event")),
  problem));
}
