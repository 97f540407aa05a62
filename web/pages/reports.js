// Relatórios (supervisors and admins): a period's volumes, times and quality, per hour or
// day, charted with uPlot (small and fast: canvas, no build step) and given as tables;
// every table exports to CSV (text cells a spreadsheet would run start with ').
import { api } from "../api.js";
import { field, h, localInput } from "../dom.js";
import { dateTime, explain, language, money, number, percent, serviceName, t } from "../i18n.js";
import { providerPicker } from "../provider_picker.js";

const DAY = 86_400_000;
const FORMULA = /^[=+\-@\t\r]/;

function dateInput(ms) {
  return localInput(ms).slice(0, 10); // a date input's value
}

function minutes(value) {
  return value == null ? "–" : t("minutes", { n: number(value) });
}

function pctText(value) {
  return value == null ? "–" : percent(value / 100);
}

// A table with a caption, its rows, and a CSV export of exactly those rows.
function table(id, caption, header, rows) {
  const csv = () => {
    const cell = (v) => {
      const text = v == null ? "" : String(v);
      const safe = typeof v === "string" && FORMULA.test(text) ? `'${text}` : text;
      return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const lines = [header, ...rows.map((r) => r.raw)].map((r) => r.map(cell).join(","));
    const blob = new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv;charset=utf-8" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `${id}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  };
  return h("section", { class: "card report-table", id },
    h("div", { class: "row" }, h("h2", {}, caption),
      h("button", { type: "button", class: "secondary", "data-csv": id, onclick: csv }, t("export_csv"))),
    h("table", {},
      h("thead", {}, h("tr", {}, header.map((name) => h("th", { scope: "col" }, t(`report_col_${name}`))))),
      h("tbody", {}, rows.length
        ? rows.map((r) => h("tr", {}, r.shown.map((v) => h("td", {}, v))))
        : h("tr", {}, h("td", { colspan: header.length, class: "empty" }, t("no_rows"))))));
}

function row(raw, shown = raw) {
  return { raw, shown };
}

// A line chart of some series over the buckets, and its numbers as a table beside.
function chart(id, caption, points, series, bucket) {
  const box = h("div", { class: "chart", id: `${id}-chart`, role: "img", "aria-label": caption });
  const xs = points.map((p) => p.start_ms / 1000);
  const data = [xs, ...series.map((s) => points.map((p) => p[s.key]))];
  const draw = () => {
    if (!window.uPlot || !box.isConnected) return;
    box.replaceChildren();
    const width = Math.max(320, box.clientWidth || 640);
    // eslint-disable-next-line no-new
    new window.uPlot({
      width,
      height: 240,
      tzDate: (ts) => new Date(ts * 1000),
      fmtDate: () => (date) => dateTime(date.getTime()),
      series: [{ label: t("report_col_start"), value: (u, v) => (v == null ? "–" : dateTime(v * 1000)) },
        ...series.map((s) => ({ label: t(s.label), stroke: s.colour, width: 2, spanGaps: true,
          value: (u, v) => (v == null ? "–" : number(v)) }))],
      axes: [{
        splits: bucket === "day" && xs.length <= 31 ? () => xs : undefined, // a tick per day
        values: (u, ticks) => ticks.map((v) => new Intl.DateTimeFormat(language(),
        bucket === "hour" ? { day: "2-digit", hour: "2-digit" } : { day: "2-digit", month: "2-digit" }).format(v * 1000)) },
      { values: (u, ticks) => ticks.map((v) => number(v)) }],
    }, data, box);
  };
  requestAnimationFrame(draw);
  return {
    element: h("section", { class: "card" }, h("h2", {}, caption), box),
    table: table(`${id}-numbers`, caption, ["start", ...series.map((s) => s.key)],
      points.map((p) => row([p.start_ms, ...series.map((s) => p[s.key])],
        [dateTime(p.start_ms), ...series.map((s) => (p[s.key] == null ? "–" : number(p[s.key])))]))),
  };
}

function figure(label, value, id) {
  return h("div", { class: "figure", id }, h("span", { class: "muted" }, label), h("strong", {}, value));
}

export async function render(main) {
  const [clients, catalogue] = await Promise.all([
    api("GET", "/clients?limit=1000"),
    api("GET", "/services"),
  ]);
  const now = Date.now();
  const from = h("input", { type: "date", required: true, value: dateInput(now - 30 * DAY) });
  const to = h("input", { type: "date", required: true, value: dateInput(now) });
  const client = h("select", {}, h("option", { value: "" }, t("all_clients")),
    clients.clients.map((c) => h("option", { value: c.id }, c.name)));
  const service = h("select", {}, h("option", { value: "" }, t("all_services")),
    catalogue.services.map((s) => h("option", { value: s.code }, serviceName(s.code))));
  const bucket = h("select", {}, ["day", "hour"].map((b) => h("option", { value: b }, t(`bucket_${b}`))));
  const provider = providerPicker("report-provider-names"); // empty: every provider
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const results = h("div", { id: "report" });
  const load = async () => {
    problem.hidden = true;
    const start = new Date(`${from.value}T00:00`).getTime();
    const end = new Date(`${to.value}T00:00`).getTime() + DAY;
    const query = new URLSearchParams({ from: start, to: end, bucket: bucket.value });
    if (client.value) query.set("client_id", client.value);
    if (service.value) query.set("service", service.value);
    if (provider.input.value.trim()) {
      const chosen = provider.chosen();
      if (!chosen) {
        problem.textContent = t("pick_provider");
        problem.hidden = false;
        return;
      }
      query.set("provider_id", chosen);
    }
    try {
      const [summary, providers, clientTable] = await Promise.all([
        api("GET", `/reports/summary?${query}`),
        api("GET", `/reports/providers?${query}`),
        api("GET", `/reports/clients?${query}`),
      ]);
      results.replaceChildren(...sections(summary, providers.providers, clientTable.clients, bucket.value));
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  };
  main.replaceChildren(
    h("h1", {}, t("reports_title")),
    h("form", { class: "card row", id: "report-filters", onsubmit: (ev) => { ev.preventDefault(); load(); } },
      field("report-from", t("report_from"), from), field("report-to", t("report_to"), to),
      field("report-client", t("filter_client"), client), field("report-service", t("filter_service"), service),
      field("report-provider", t("report_provider"), provider.input), provider.list,
      field("report-bucket", t("report_bucket"), bucket),
      h("button", { type: "submit" }, t("report_show"))),
    problem, results);
  await load();
}

function sections(s, providers, clients, bucket) {
  const volume = chart("volume", t("report_volume"), s.over_time, [
    { key: "events", label: "report_col_events", colour: "#2b6cb0" },
    { key: "attendances", label: "report_col_attendances", colour: "#c05621" },
  ], bucket);
  const times = chart("times", t("report_times"), s.over_time, [
    { key: "tma_p50_min", label: "report_col_tma_p50_min", colour: "#553c9a" },
    { key: "to_dispatch_p50_min", label: "report_col_to_dispatch_p50_min", colour: "#1c6b3a" },
    { key: "to_arrival_p50_min", label: "report_col_to_arrival_p50_min", colour: "#9b1c1c" },
  ], bucket);
  const dist = (name, d) => row([t(`report_${name}`), d.count, d.p50_min, d.p90_min, d.mean_min],
    [t(`report_${name}`), number(d.count), minutes(d.p50_min), minutes(d.p90_min), minutes(d.mean_min)]);
  return [
    h("section", { class: "card figures", id: "report-figures" },
      figure(t("report_col_events"), number(s.events), "fig-events"),
      figure(t("report_col_attendances"), number(s.attendances), "fig-attendances"),
      figure(t("report_avulso"), `${number(s.avulso)} · ${money(s.avulso_value_cents)}`, "fig-avulso"),
      figure(t("report_on_time"), pctText(s.on_time_pct), "fig-on-time"),
      figure(t("report_acceptance"), pctText(s.acceptance_pct), "fig-acceptance"),
      figure(t("report_depth"), s.offers_per_assignment == null ? "–" : number(s.offers_per_assignment), "fig-depth"),
      figure(t("report_cancelled"), number(s.cancelled), "fig-cancelled"),
      figure(t("report_rating"), s.ratings.mean == null ? "–" : `${number(s.ratings.mean)} ★ (${number(s.ratings.count)})`, "fig-rating")),
    volume.element, times.element,
    table("times-table", t("report_times"), ["measure", "count", "p50", "p90", "mean"],
      [dist("tma", s.tma), dist("to_dispatch", s.to_dispatch), dist("to_arrival", s.to_arrival)]),
    table("by-service", t("report_by_service"), ["service", "attendances"],
      Object.entries(s.by_service).map(([code, n]) => row([serviceName(code), n], [serviceName(code), number(n)]))),
    table("by-kind", t("report_by_kind"), ["kind", "attendances"],
      Object.entries(s.by_kind).map(([kind, n]) => row([t(`kind_${kind}`), n], [t(`kind_${kind}`), number(n)]))),
    table("cancellations", t("report_cancellations"), ["reason", "count"],
      Object.entries(s.cancellations).map(([reason, n]) => row([reason, n], [reason, number(n)]))),
    table("ratings", t("report_ratings"), ["stars", "count"],
      Object.entries(s.ratings.by_stars).map(([stars, n]) => row([Number(stars), n], ["★".repeat(Number(stars)), number(n)]))),
    table("providers", t("report_providers"),
      ["provider", "jobs", "offers", "acceptance_pct", "on_time_pct", "arrival_mean_min", "rating_mean", "value_cents"],
      providers.map((p) => row(
        [p.name, p.jobs, p.offers, p.acceptance_pct, p.on_time_pct, p.arrival_mean_min, p.rating_mean, p.value_cents],
        [p.name, number(p.jobs), number(p.offers), pctText(p.acceptance_pct), pctText(p.on_time_pct),
          minutes(p.arrival_mean_min), p.rating_mean == null ? "–" : `${number(p.rating_mean)} ★`, money(p.value_cents)]))),
    table("clients", t("report_clients"), ["client", "attendances", "covered", "avulso", "cancelled", "on_time_pct"],
      clients.map((c) => row([c.name, c.attendances, c.covered, c.avulso, c.cancelled, c.on_time_pct],
        [c.name, number(c.attendances), number(c.covered), number(c.avulso), number(c.cancelled), pctText(c.on_time_pct)]))),
    volume.table, times.table,
  ];
}
