// The beneficiary as the operator needs them on the phone: documents, phones, address,
// vehicles, and the plan's use so far as a list of earlier attendances.
import { api } from "../api.js";
import { h } from "../dom.js";
import { dateTime, serviceName, t } from "../i18n.js";

function cpf(digits) {
  return /^\d{11}$/.test(digits) ? `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}` : digits;
}

export function address(a) {
  if (!a) return "";
  return [[a.street, a.number].filter(Boolean).join(", "), a.district, [a.city, a.state].filter(Boolean).join("/"), a.cep]
    .filter(Boolean).join(" · ");
}

export function details(b) {
  const row = (label, value) => (value ? h("li", {}, h("strong", {}, `${label}: `), value) : null);
  return h("ul", { class: "facts", id: "beneficiary-facts" },
    row("CPF", cpf(b.cpf)),
    row(t("phones"), (b.phones || []).join(", ")),
    row(t("address"), address(b.address)),
    b.vehicles.map((v) => row(t("vehicle"), [v.plate, v.model, v.year, v.colour].filter(Boolean).join(" · "))));
}

// Earlier attendances, newest first: when, which service (or kind), how it ended.
export async function usageHistory(beneficiaryId, exceptEvent = null) {
  const found = (await api("GET", `/beneficiaries/${beneficiaryId}/attendances`)).attendances
    .filter((a) => a.event_id !== exceptEvent);
  return h("div", { id: "usage-history" }, h("h3", {}, t("usage_history")),
    found.length
      ? h("ul", {}, found.map((a) => h("li", {},
          `${dateTime(a.at_ms)} · ${a.service ? serviceName(a.service) : t(`kind_${a.kind}`)}`
          + `${a.avulso ? ` (${t("avulso_short")})` : ""} · ${t(`state_${a.state}`)}`)))
      : h("p", { class: "muted" }, t("no_usage")));
}
