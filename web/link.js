// A link sent by SMS or e-mail: the offer (opening it changes nothing), the answer, then
// the job's steps through the same link.
import { api } from "./api.js";
import { h } from "./dom.js";
import { explain, language, setLanguage, t, translate } from "./i18n.js";
import { assignmentCard, offerCard } from "./offer_view.js";

const main = document.getElementById("main");
let path = `/links/${location.hash.slice(1)}`;
window.addEventListener("hashchange", () => {
  path = `/links/${location.hash.slice(1)}`;
  show();
});

async function show(view) {
  view = view || await api("GET", path).catch((error) => ({ error }));
  if (view.error) {
    main.replaceChildren(h("p", { class: "error", role: "alert" }, explain(view.error)));
    return;
  }
  const act = async (call) => {
    try { await show(await call()); } catch (error) {
      main.prepend(h("p", { class: "error", role: "alert" }, explain(error)));
    }
  };
  if (view.assignment) {
    main.replaceChildren(assignmentCard(view.assignment, view.attendance_state, (step) =>
      act(async () => { await api("POST", `${path}/steps`, { step }); return null; })));
  } else if (view.state === "pending") {
    main.replaceChildren(offerCard({ ...view, offer_id: view.offer_id }, {
      onAccept: (eta) => act(() => api("POST", `${path}/accept`, { eta_min: eta })),
      onRefuse: (reason) => act(() => api("POST", `${path}/refuse`, { reason })),
    }));
  } else {
    main.replaceChildren(h("div", { class: "card", id: "closed" },
      h("h2", {}, `${t("offer")} #${view.offer_id}`), h("p", {}, t(`offer_closed_${view.state}`))));
  }
}

const picker = document.getElementById("lang");
picker.value = language();
picker.addEventListener("change", () => { setLanguage(picker.value); show(); });
setLanguage(language());
translate(document);
show();
