// What the portal and the link page share: an offer with its countdown, the answer form,
// and the assignment with its status buttons.
import { field, h } from "./dom.js";
import { serviceName, t } from "./i18n.js";

export const REASONS = ["too_far", "busy", "vehicle_unsuitable", "outside_area", "price", "other"];
// The steps a provider may report from each state (hub/dispatch/lifecycle.py TRANSITIONS).
const NEXT = {
  assigned: ["depart", "arrive"],
  en_route: ["arrive"],
  on_site: ["start", "complete"],
  in_service: ["complete"],
};

// A countdown that trusts the hub's clock: deadline and server_time come from the hub.
export function countdown(deadline, serverTime) {
  const skew = Date.now() - serverTime;
  const el = h("span", { class: "tma", role: "timer", "aria-live": "off" });
  const tick = () => {
    const left = Math.max(0, Math.round((deadline + skew - Date.now()) / 1000));
    el.textContent = `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`;
    el.dataset.left = left;
  };
  tick();
  const timer = setInterval(tick, 500);
  el.stop = () => clearInterval(timer);
  return el;
}

export function offerCard(offer, { onAccept, onRefuse }) {
  const eta = h("input", { type: "number", min: 1, max: 1440, value: 30, required: true });
  const reason = h("select", {}, REASONS.map((r) => h("option", { value: r }, t(`reason_${r}`))));
  const clock = countdown(offer.deadline, offer.server_time);
  return h("div", { class: "card offer", dataset: { offer: offer.offer_id } },
    h("h2", {}, `${t("offer")} #${offer.offer_id}`),
    h("p", {}, [serviceName(offer.service), offer.district, offer.city].filter(Boolean).join(" · ")),
    h("p", {}, `${t("answer_within")} `, clock),
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); onAccept(Number(eta.value)); } },
      field(`eta-${offer.offer_id}`, t("your_eta"), eta), h("button", { type: "submit" }, t("accept"))),
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); onRefuse(reason.value); } },
      field(`reason-${offer.offer_id}`, t("refuse_reason"), reason),
      h("button", { type: "submit", class: "secondary" }, t("refuse"))));
}

export function assignmentCard(job, state, onStep) {
  const where = (p) => p ? [p.address.street, p.address.number, p.address.district, p.address.city].filter(Boolean).join(", ") : "–";
  return h("div", { class: "card assignment", dataset: { attendance: job.attendance_id } },
    h("h2", {}, `${t("job")} #${job.attendance_id} · ${serviceName(job.service)}`),
    h("p", {}, `${t("requester")}: ${job.requester_name} · ${job.requester_phone}`),
    h("p", {}, `${t("origin")}: ${where(job.origin)}`),
    h("p", {}, `${t("destination")}: ${where(job.destination)}`),
    job.notes ? h("p", {}, `${t("notes")}: ${job.notes}`) : null,
    h("p", { class: "job-state" }, `${t("col_state")}: ${t(`state_${state}`)}`),
    h("div", { class: "modes" }, (NEXT[state] || []).map((step) =>
      h("button", { type: "button", onclick: () => onStep(step) }, t(`step_${step}`)))));
}
