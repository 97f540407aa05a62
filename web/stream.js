// The dashboard stream: signs in, subscribes, and on a dropped socket reconnects and
// resumes every topic from the last offset it saw (the hub answers what was missed, or a
// snapshot marked resync).
import { token } from "./api.js";

export class DashboardStream extends EventTarget {
  constructor() {
    super();
    this.topics = new Map(); // topic -> last offset seen (null until the snapshot)
    this.ws = null;
    this.paused = false; // tests hold the socket closed to change things meanwhile
    this.backoff = 250;
    this.closedByUs = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/dashboard`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "sign_in", token: token() }));
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      this.emit("link", { up: false, code: event.code });
      if (this.closedByUs || [4001, 4002, 4009].includes(event.code)) return;
      setTimeout(() => this.reconnect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  reconnect() {
    if (this.paused) {
      setTimeout(() => this.reconnect(), 100);
      return;
    }
    this.connect();
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
