// Usuários (admins): every console user, its role and whether it may log in; an admin
// changes a role, deactivates (which ends the user's sessions), reactivates or removes.
import { api } from "../api.js";
import { h } from "../dom.js";
import { explain, t } from "../i18n.js";

const ROLES = ["operator", "supervisor", "admin"];

export async function render(main) {
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const body = h("tbody");
  main.replaceChildren(
    h("h1", { id: "users-title" }, t("users_title")),
    problem,
    h(
      "table",
      { class: "users" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("users_login")),
        h("th", { scope: "col" }, t("users_name")),
        h("th", { scope: "col" }, t("users_role")),
        h("th", { scope: "col" }, t("users_active")),
        h("th", { scope: "col" }, t("users_actions")))),
      body,
    ),
  );

  async function act(method, path, change) {
    problem.hidden = true;
    try {
      await api(method, path, change);
      await load();
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
    }
  }

  function row(user) {
    const path = `/admin/users/${user.id}`;
    const role = h("select", {
      "aria-label": t("users_role_of", { login: user.login }),
      onchange: (event) => act("PATCH", path, { role: event.target.value }),
    }, ROLES.map((r) => h("option", { value: r, selected: r === user.role }, t(`role_${r}`))));
    return h("tr", { dataset: { user: user.id } },
      h("td", {}, user.login),
      h("td", {}, user.name),
      h("td", {}, role),
      h("td", {}, user.active ? t("users_yes") : t("users_no")),
      h("td", {},
        h("button", {
          type: "button",
          class: "toggle",
          onclick: () => act("PATCH", path, { active: !user.active }),
        }, user.active ? t("users_deactivate") : t("users_activate")),
        " ",
        h("button", {
          type: "button",
          class: "remove",
          onclick: () => {
            if (confirm(t("users_remove_confirm", { login: user.login }))) act("DELETE", path);
          },
        }, t("users_remove"))));
  }

  async function load() {
    const { users } = await api("GET", "/admin/users?limit=500");
    body.replaceChildren(...users.map(row));
  }

  await load();
}
