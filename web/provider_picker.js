// A provider picked by a piece of the name: the input offers the active providers whose
// name holds what is typed (GET /match/providers), and says which one was picked.
import { api } from "./api.js";
import { h } from "./dom.js";

export function providerPicker(listId, attrs = {}) {
  const list = h("datalist", { id: listId });
  const byLabel = new Map();
  const input = h("input", { list: listId, autocomplete: "off", ...attrs });
  input.addEventListener("input", async () => {
    if (input.value.trim().length < 2 || byLabel.has(input.value)) return;
    const found = await api("GET", `/match/providers?q=${encodeURIComponent(input.value)}`)
      .catch(() => ({ providers: [] }));
    byLabel.clear();
    list.replaceChildren(...found.providers.map((p) => {
      const label = [p.name, p.city].filter(Boolean).join(" · ");
      byLabel.set(label, p.provider_id);
      return h("option", { value: label });
    }));
  });
  // The id of the provider picked, or undefined when what is typed names none.
  return { input, list, chosen: () => byLabel.get(input.value) };
}
