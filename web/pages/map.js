// The live map: providers by connectivity and duty.  Tiles come from the configured URL;
// without one the markers stand on a blank background.
import { t, translate } from "../i18n.js";

const COLOURS = { online: "#1c6b3a", stale: "#c05621", offline: "#718096" };

export async function render(main, { stream, config }) {
  main.innerHTML = `
    <h1 data-i18n="map_title"></h1>
    <p class="legend" data-i18n="map_legend"></p>
    <div id="map" role="region" aria-label="${t("map_title")}"></div>`;
  translate(main);
  const L = window.L;
  const map = L.map("map").setView([-23.55, -46.63], 11);
  if (config.tiles_url) {
    L.tileLayer(config.tiles_url, { maxZoom: 19, attribution: config.tiles_attribution }).addTo(map);
  } else {
    main.querySelector(".legend").textContent += ` ${t("map_no_tiles")}`;
  }
  const markers = new Map();
  const place = ([id, lat, lng, connectivity, onDuty, engaged]) => {
    const style = { radius: engaged ? 9 : 7, color: COLOURS[connectivity] || "#718096",
      fillOpacity: onDuty ? 0.9 : 0.3, weight: 2 };
    let marker = markers.get(id);
    if (!marker) {
      marker = L.circleMarker([lat, lng], style).addTo(map);
      markers.set(id, marker);
    } else {
      marker.setLatLng([lat, lng]);
      marker.setStyle(style);
    }
    marker.getElement()?.setAttribute("data-provider", id);
    marker.bindTooltip(`#${id} · ${connectivity}${engaged ? " · busy" : ""}`);
  };
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
    stream.unsubscribe("map");
    map.remove();
  };
}
