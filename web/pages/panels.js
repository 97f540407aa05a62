// The two live panels the seed names: Painel de Acionamento (no provider yet) and Painel
// de Acompanhamento (in progress).  Rows come from the dashboard stream; minutes waiting
// and deadlines tick locally every second.
import { api } from "../api.js";
import { explain, onLanguage, serviceName, t, translate } from "../i18n.js";

const PANELS = ["dispatch", "tracking"];

export function render(main, { stream }) {
  main.innerHTML = `
    <div class="panels">
      <section class="panel" aria-labelledby="dispatch-title">
        <h2 id="dispatch-title" data-i18n="dispatch_panel"></h2>
        <p class="muted" id="averages" aria-live="off"></p>
        <p class="row filters">
          <label for="client-filter" data-i18n="filter_client"></label>
          <select id="client-filter"><option value="" data-i18n="all_clients"></option></select>
          <label for="service-filter" data-i18n="filter_service"></label>
          <select id="service-filter"><option value="" data-i18n="all_services"></option></select>
          <label for="panel-order" data-i18n="order_by"></label>
          <select id="panel-order">
            <option value="waiting" data-i18n="order_waiting"></option>
            <option value="service" data-i18n="order_service"></option>
            <option value="state" data-i18n="order_state"></option>
          </select></p>
        <p class="error" role="alert" id="panel-problem" hidden></p>
        <table id="dispatch">
          <thead><tr>
            <th scope="col" data-i18n="col_attendance"></th><th scope="col" data-i18n="col_service"></th>
            <th scope="col" data-i18n="col_place"></th><th scope="col" data-i18n="col_waiting"></th>
            <th scope="col" data-i18n="col_attempts"></th><th scope="col" data-i18n="col_state"></th>
            <th scope="col" data-i18n="col_actions"></th>
          </tr></thead><tbody></tbody>
        </table>
      </section>
      <section class="panel" aria-labelledby="tracking-title">
        <h2 id="tracking-title" data-i18n="tracking_panel"></h2>
        <table id="tracking">
          <thead><tr>
            <th scope="col" data-i18n="col_attendance"></th><th scope="col" data-i18n="col_provider"></th>
            <th scope="col" data-i18n="col_state"></th><th scope="col" data-i18n="col_promised"></th>
            <th scope="col" data-i18n="col_eta"></th><th scope="col" data-i18n="col_deadline"></th>
          </tr></thead><tbody></tbody>
        </table>
      </section>
    </div>`;
  translate(main);
  const rows = { dispatch: new Map(), tracking: new Map() };
  const filter = main.querySelector("#service-filter");
  const clientFilter = main.querySelector("#client-filter");
  const order = main.querySelector("#panel-order");
  const problem = main.querySelector("#panel-problem");
  const automatic = async (id) => {
    problem.hidden = true;
    try { await api("POST", `/attendances/${id}/auto`, {}); } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  };
  api("GET", "/services").then(({ services }) => {
    filter.append(...services.map((s) => Object.assign(document.createElement("option"), { value: s.code, textContent: serviceName(s.code) })));
  }).catch(() => {});
  api("GET", "/clients?limit=1000").then(({ clients }) => {
    clientFilter.append(...clients.map((c) => Object.assign(document.createElement("option"), { value: c.id, textContent: c.name })));
  }).catch(() => {});
  [filter, clientFilter, order].forEach((select) => select.addEventListener("change", () => draw()));
  const draw = () => {
    const wanted = (row) => (!filter.value || row.service === filter.value)
      && (!clientFilter.value || String(row.client_id) === clientFilter.value);
    const shown = (panel) => new Map([...rows[panel]].filter(([, row]) => wanted(row)));
    PANELS.forEach((panel) => paint(main.querySelector(`#${panel} tbody`), panel, shown(panel), automatic, order.value));
    main.querySelector("#averages").textContent = averages([...rows.tracking.values()]);
  };

  const onSnapshot = ({ detail }) => {
    if (!rows[detail.topic]) return;
    rows[detail.topic] = new Map(detail.rows.map((row) => [row.attendance_id, row]));
    draw();
  };
  const onUpdate = ({ detail }) => {
    const panel = rows[detail.topic];
    if (!panel) return;
    if (detail.row) panel.set(detail.row.attendance_id, detail.row);
    if (detail.removed) panel.delete(detail.removed);
    draw();
  };
  stream.addEventListener("snapshot", onSnapshot);
  stream.addEventListener("update", onUpdate);
  PANELS.forEach((panel) => stream.subscribe(panel));
  const tick = setInterval(draw, 1000);
  onLanguage(draw);
  draw();
  return () => {
    clearInterval(tick);
    stream.removeEventListener("snapshot", onSnapshot);
    stream.removeEventListener("update", onUpdate);
  };
}

// Response (registered -> a provider has it) and arrival (assigned -> arrived) times over
// the attendances in progress.
function averages(inProgress) {
  const mean = (values) => values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length / 60000) : null;
  const response = mean(inProgress.filter((r) => r.assigned_ms).map((r) => r.assigned_ms - r.at_ms));
  const arrival = mean(inProgress.filter((r) => r.arrived_ms && r.assigned_ms).map((r) => r.arrived_ms - r.assigned_ms));
  const show = (n) => (n === null ? "–" : t("minutes", { n }));
  return `${t("avg_response")}: ${show(response)} · ${t("avg_arrival")}: ${show(arrival)}`;
}

// A scheduled job waits from its schedule, not from when it was registered; until then it
// is shown with its schedule, after the jobs for now, and is never late.
function waitingFrom(row) {
  return row.scheduled_ms && row.scheduled_ms > row.at_ms ? row.scheduled_ms : row.at_ms;
}

function upcoming(row) {
  return Boolean(row.scheduled_ms && row.scheduled_ms > Date.now());
}

function dateTime(ms) {
  return new Date(ms).toLocaleString(document.documentElement.lang, {
    day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

function minutesSince(ms) {
  return Math.max(0, Math.floor((Date.now() - ms) / 60000));
}

function clock(ms) {
  return ms ? new Date(ms).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" }) : "–";
}

// Dispatch from the row: open its Acionamento, or start the client's automatic cascade.
function actions(row, automatic) {
  const td = document.createElement("td");
  const open = document.createElement("a");
  open.href = `#/attendance/${row.attendance_id}`;
  open.className = "button";
  open.textContent = t("dispatch_now");
  td.append(open);
  if (!row.automatic && row.state === "awaiting_dispatch") {
    const auto = document.createElement("button");
    auto.type = "button";
    auto.className = "secondary";
    auto.textContent = t("auto_dispatch");
    auto.addEventListener("click", () => automatic(row.attendance_id));
    td.append(" ", auto);
  }
  return td;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

// The operator's order: by time waiting (scheduled jobs after the jobs for now), by
// service name, or by state; time waiting breaks ties.
const ORDERS = {
  waiting: () => 0,
  service: (a, b) => serviceName(a.service).localeCompare(serviceName(b.service)),
  state: (a, b) => t(`state_${a.state}`).localeCompare(t(`state_${b.state}`)),
};

function paint(tbody, panel, rows, automatic, by = "waiting") {
  tbody.replaceChildren();
  if (!rows.size) {
    const tr = document.createElement("tr");
    const td = cell(t("no_rows"));
    td.colSpan = panel === "dispatch" ? 7 : 6;
    td.className = "empty";
    tr.append(td);
    tbody.append(tr);
    return;
  }
  const order = (a, b) => ORDERS[by](a, b) || (upcoming(a) - upcoming(b)) || (waitingFrom(a) - waitingFrom(b));
  for (const row of [...rows.values()].sort(order)) {
    const tr = document.createElement("tr");
    tr.dataset.attendance = row.attendance_id;
    const state = t(`state_${row.state}`);
    const link = document.createElement("td");
    const anchor = document.createElement("a");
    anchor.href = `#/attendance/${row.attendance_id}`;
    anchor.textContent = `#${row.attendance_id}`;
    link.append(anchor);
    if (panel === "dispatch") {
      tr.append(
        link, cell(serviceName(row.service)),
        cell([row.district, row.city].filter(Boolean).join(", ")),
        cell(upcoming(row)
          ? t("scheduled_for", { when: dateTime(row.scheduled_ms) })
          : t("minutes", { n: minutesSince(waitingFrom(row)) })),
        cell(String(row.attempts)),
        cell(row.dispatch_note ? `${state} — ${t(`note_${row.dispatch_note}`)}` : state),
        actions(row, automatic),
      );
      if (upcoming(row)) tr.className = "scheduled";
      else if (minutesSince(waitingFrom(row)) >= 15) tr.className = "late";
    } else {
      const late = row.promised_ms && Date.now() > row.promised_ms && ["assigned", "en_route"].includes(row.state);
      tr.append(
        link, cell(row.provider_name), cell(state),
        cell(clock(row.promised_ms)), cell(clock(row.current_eta_ms)),
        cell(late ? t("late") : row.late_risk ? t("at_risk") : t("within")),
      );
      if (late) tr.className = "late";
      else if (row.late_risk) tr.className = "risk";
    }
    tbody.append(tr);
  }
}
