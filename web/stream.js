// The dashboard stream: signs in, subscribes, and on a dropped socket reconnects and
// resumes every topic from the last offset it saw (the hub answers what was missed, or a
// snapshot marked resync).
import { token } from "./api.js";

export class DashboardStream extends EventTarget {
  // closes: the hub's close codes by name (/console/config.json), with whether to dial again.
  constructor(closes = {}) {
    super();
    this.topics = new Map(); // topic -> last offset seen (null until the snapshot)
    this.ws = null;
    this.backoff = 250;
    this.closedByUs = false;
    this.final = new Set(Object.values(closes).filter((c) => !c.reconnect).map((c) => c.code));
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/dashboard`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "sign_in", token: token() }));
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      this.emit("link", { up: false, code: event.code });
      if (this.closedByUs || this.final.has(event.code)) return;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  receive(frame) {
    if (frame.type === "signed_in") {
      this.backoff = 250;
      this.emit("link", { up: true });
      for (const [topic, offset] of this.topics) this.send(topic, offset);
      return;
    }
    if (frame.type === "snapshot" || frame.type === "update") {
      this.topics.set(frame.topic, frame.offset);
      this.emit(frame.type, frame);
    } else if (frame.type === "error") {
      this.emit("problem", frame);
    }
  }

  send(topic, since) {
    const frame = { type: "subscribe", topic };
    if (since) frame.since = since;
    this.ws.send(JSON.stringify(frame));
  }

  // A page that subscribes gets a fresh snapshot, even if another page had the topic.
  subscribe(topic) {
    this.topics.set(topic, null);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send(topic, null);
  }

  unsubscribe(topic) {
    this.topics.delete(topic);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "unsubscribe", topic }));
    }
  }

  close() {
    this.closedByUs = true;
    if (this.ws) this.ws.close();
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
