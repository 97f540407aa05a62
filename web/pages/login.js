import { api, ApiError, setToken } from "../api.js";
import { explain, t, translate } from "../i18n.js";

export function render(main, { onLoggedIn }) {
  main.innerHTML = `
    <form class="login" novalidate>
      <h1 data-i18n="login_title"></h1>
      <label for="login" data-i18n="login_user"></label>
      <input id="login" name="login" autocomplete="username" required>
      <label for="password" data-i18n="login_password"></label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <p><button type="submit" data-i18n="login_submit"></button></p>
      <p class="error" role="alert" hidden></p>
    </form>`;
  translate(main);
  const form = main.querySelector("form");
  const problem = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    try {
      const session = await api("POST", "/auth/login", {
        login: form.login.value,
        password: form.password.value,
      });
      setToken(session.token);
      onLoggedIn();
    } catch (error) {
      problem.textContent = error instanceof ApiError && error.status === 401
        ? t("login_failed") : explain(error);
      problem.hidden = false;
    }
  });
  form.login.focus();
}
