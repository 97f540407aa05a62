// The REST API with the console user's session token.
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message); // the hub's English message: for the log, never for the screen
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function token() {
  return sessionStorage.getItem("hub.token");
}

export function setToken(value) {
  if (value) sessionStorage.setItem("hub.token", value);
  else sessionStorage.removeItem("hub.token");
}

// A write carries an Idempotency-Key: when the network fails before the answer arrives, it
// is sent once more with the same key, and the hub answers it without acting twice.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs HTTPS
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["Idempotency-Key"] = newKey();
  const request = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  let response;
  try {
    response = await fetch(path, request);
  } catch (failure) {
    if (method === "GET") throw failure;
    response = await fetch(path, request); // the same key: done at most once
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText,
      error.details || {});
  }
  return data;
}
