// The live map: providers by connectivity and duty.  Tiles come from the configured URL;
// without one the markers stand on a blank background.
import { api } from "../api.js";
import { serviceName, t, translate } from "../i18n.js";

const COLOURS = { online: "#1c6b3a", stale: "#c05621", offline: "#718096" };

const JOB_COLOURS = { awaiting_dispatch: "#9b1c1c", offering: "#b7791f", assigned: "#2b6cb0",
  en_route: "#2b6cb0", on_site: "#553c9a", in_service: "#553c9a" };

export async function render(main, { stream, config, params }) {
  main.innerHTML = `
    <h1 data-i18n="map_title"></h1>
    <p class="legend" data-i18n="map_legend"></p>
    <div id="map" role="region" aria-label="${t("map_title")}"></div>`;
  translate(main);
  const L = window.L;
  const map = L.map("map").setView([-23.55, -46.63], 11);
  if (config.tiles_url) {
    // Tiles that do not load leave a blank map: say so once, rather than nothing.
    let told = false;
    L.tileLayer(config.tiles_url, { maxZoom: 19, attribution: config.tiles_attribution })
      .on("tileerror", () => {
        if (told) return;
        told = true;
        main.querySelector(".legend").after(Object.assign(document.createElement("p"),
          { className: "error", role: "status", id: "tiles-failed", textContent: t("map_tiles_failed") }));
      }).addTo(map);
  } else {
    main.querySelector(".legend").textContent += ` ${t("map_no_tiles")}`;
  }
  const markers = new Map();
  const place = ([id, lat, lng, connectivity, onDuty, engaged, name]) => {
    const style = { radius: engaged ? 9 : 7, color: COLOURS[connectivity] || "#718096",
      fillOpacity: onDuty ? 0.9 : 0.3, weight: chosen.has(id) ? 5 : 2 };
    let marker = markers.get(id);
    if (!marker) {
      marker = L.circleMarker([lat, lng], style).addTo(map);
      markers.set(id, marker);
    } else {
      marker.setLatLng([lat, lng]);
      marker.setStyle(style);
    }
    marker.getElement()?.setAttribute("data-provider", id);
    if (chosen.has(id)) marker.getElement()?.setAttribute("data-candidate", "true");
    const state = [name, t(`conn_${connectivity}`), t(onDuty ? "on_duty_short" : "off_duty_short"), engaged ? t("engaged") : ""];
    marker.bindTooltip(state.filter(Boolean).join(" · "));
  };
  // attendances by status, from the two panels' rows
  const jobs = new Map();
  const placeJob = (row) => {
    if (row.lat == null) return;
    let marker = jobs.get(row.attendance_id);
    const style = { radius: 6, color: "#1a202c", weight: 1, fillColor: JOB_COLOURS[row.state] || "#1a202c", fillOpacity: 1 };
    if (!marker) {
      marker = L.circleMarker([row.lat, row.lng], style).addTo(map);
      jobs.set(row.attendance_id, marker);
    } else marker.setStyle(style);
    marker.getElement()?.setAttribute("data-attendance", row.attendance_id);
    marker.bindTooltip([`${t("col_attendance")} #${row.attendance_id}`, serviceName(row.service), t(`state_${row.state}`)]
      .filter(Boolean).join(" · "));
  };
  const onJobs = ({ detail }) => {
    if (detail.topic !== "dispatch" && detail.topic !== "tracking") return;
    (detail.rows || []).forEach(placeJob);
    if (detail.row) placeJob(detail.row);
    if (detail.removed && !detail.row) {
      // it left this panel; the other panel's update re-places it, or it is done
      const marker = jobs.get(detail.removed);
      if (marker) { marker.remove(); jobs.delete(detail.removed); }
    }
  };
  stream.addEventListener("snapshot", onJobs);
  stream.addEventListener("update", onJobs);
  stream.subscribe("dispatch");
  stream.subscribe("tracking");
  // the selected attendance's candidates (#/map/<attendance id>)
  const chosen = new Set();
  if (params && params[0]) {
    const a = (await api("GET", `/attendances/${Number(params[0])}`)).attendance;
    const event = (await api("GET", `/events/${a.event_id}`)).event;
    if (a.origin && a.service) {
      const page = await api("POST", "/match", { origin: { lat: a.origin.lat, lng: a.origin.lng },
        service: a.service, client_id: event.client_id, mode: "verbal", limit: 20 }).catch(() => ({ candidates: [] }));
      page.candidates.forEach((c) => chosen.add(c.provider_id));
      map.setView([a.origin.lat, a.origin.lng], 13);
    }
  }
  const onFrame = ({ detail }) => {
    if (detail.topic !== "map") return;
    if (detail.type === "snapshot") {
      markers.forEach((marker) => marker.remove());
      markers.clear();
    }
    (detail.points || []).forEach(place);
  };
  stream.addEventListener("snapshot", onFrame);
  stream.addEventListener("update", onFrame);
  stream.subscribe("map");
  return () => {
    stream.removeEventListener("snapshot", onFrame);
    stream.removeEventListener("update", onFrame);
    stream.removeEventListener("snapshot", onJobs);
    stream.removeEventListener("update", onJobs);
    stream.unsubscribe("map");
    map.remove();
  };
}
