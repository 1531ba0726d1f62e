// Pitchside's browser client: follows an organization's live events over Server-Sent
// Events or WebSocket, and never misses or repeats one.
//
//   import { PitchsideClient } from "/client/pitchside.js";
//   const client = new PitchsideClient({
//     baseUrl: "https://pitchside.example",      // the local gateway: one URL for all
//     // On AWS, three hosts instead (the stack's ClientConfig output):
//     // apiUrl: "https://abc.execute-api…/", sseUrl: "https://xyz.lambda-url…/sse/events",
//     // wsUrl: "wss://def.execute-api…/live",
//     getToken: async () => myPlatformToken,     // the club platform's access token
//     transport: "sse",                          // or "websocket"
//     loadSnapshot: async () => {                // load your state; say where it stands
//       const score = await (await fetch(...)).json();
//       render(score);
//       return score.lastEventId;
//     },
//     onEvent: (event) => apply(event),          // the contract's envelope, in id order
//     onStatus: (status) => show(status),        // "connecting" | "live" | "waiting" | "fallback"
//   });
//   client.start();
//
// How it keeps the stream whole:
// - It loads the snapshot first and follows from the snapshot's lastEventId.
// - Every (re)connection fetches a fresh single-use ticket (POST /auth/ticket), so no
//   long-lived token goes into a URL, and resumes from the last id it delivered:
//   SSE with `lastEventId=`, WebSocket with a catch-up (GET /events/catch-up) once the
//   socket answers a ping, holding live events back until the catch-up is delivered.
// - Events whose id it has already delivered are dropped, so redelivery is harmless.
// - A `reset` (the log no longer holds its position) calls loadSnapshot again.
// - A stream ended because the membership changed (SSE `event: closed`, or a WebSocket
//   `membership_ended` error and close) reconnects like any other end.
// - Reconnects back off exponentially with full jitter, from minDelayMs to maxDelayMs.
// - An SSE stream the server refuses with 429 (the member's streams are capped, or the
//   SSE function is throttled) makes the client follow over WebSocket instead
//   (onStatus "fallback"), unless `fallbackToWebSocket: false`. EventSource does not say
//   why it failed, so a stream that fails before it opens is asked once more with fetch,
//   which reads the status.

const READY = "pitchside-ready";
const KEEPALIVE_MS = 5 * 60 * 1000;

const EVENT_TYPES = [
  "availability.updated", "message.received", "message.status.updated",
  "match.score.updated", "auction.lot.opened", "auction.bid.placed",
  "auction.lot.closed", "chat.message.sent", "payment.confirmed", "payment.failed",
];

export class PitchsideClient {
  constructor(options) {
    if (!options || !options.getToken || !options.onEvent) {
      throw new Error("PitchsideClient needs getToken and onEvent");
    }
    const base = (options.baseUrl || location.origin).replace(/\/$/, "");
    // Tickets and catch-up; the stream; the socket. One base URL gives all three.
    this.apiUrl = (options.apiUrl || base).replace(/\/$/, "");
    this.sseUrl = options.sseUrl || `${base}/sse/events`;
    this.wsUrl = options.wsUrl || `${base.replace(/^http/, "ws")}/ws`;
    this.getToken = options.getToken;
    this.transport = options.transport || "sse";
    this.loadSnapshot = options.loadSnapshot || (async () => undefined);
    this.onEvent = options.onEvent;
    this.onStatus = options.onStatus || (() => {});
    this.types = options.types || null;
    this.matchId = options.matchId || null;
    this.minDelayMs = options.minDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30000;
    this.fallbackToWebSocket = options.fallbackToWebSocket ?? true;
    this.lastEventId = null;
    this.attempt = 0;
    this.stopped = true;
    this.source = null;
    this.timer = null;
  }

  async start() {
    this.stopped = false;
    await this.reload();
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.closeSource();
    this.onStatus("stopped");
  }

  // Loads the snapshot and takes its position as the resume point.
  async reload() {
    const from = await this.loadSnapshot();
    this.lastEventId = from == null ? this.lastEventId : String(from);
  }

  // Delivers an event once, in id order; answers false for one already delivered.
  deliver(event) {
    if (this.lastEventId !== null && BigInt(event.id) <= BigInt(this.lastEventId)) {
      return false;
    }
    this.lastEventId = event.id;
    this.onEvent(event);
    return true;
  }

  async ticket() {
    const token = await this.getToken();
    const res = await fetch(`${this.apiUrl}/auth/ticket`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`ticket: ${res.status}`);
    return (await res.json()).ticket;
  }

  async connect() {
    if (this.stopped) return;
    this.onStatus("connecting");
    try {
      const ticket = await this.ticket();
      if (this.stopped) return;
      if (this.transport === "websocket") this.openWebSocket(ticket);
      else this.openEventSource(ticket);
    } catch (e) {
      this.retry();
    }
  }

  // Full jitter: a random delay up to the exponential bound.
  retry() {
    this.closeSource();
    if (this.stopped) return;
    this.onStatus("waiting");
    const bound = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), Math.max(50, Math.random() * bound));
  }

  closeSource() {
    if (this.source) {
      this.source.onerror = this.source.onclose = null;
      this.source.close();
      this.source = null;
    }
  }

  query(extra) {
    const q = new URLSearchParams(extra);
    if (this.types) q.set("types", this.types.join(","));
    if (this.matchId) q.set("matchId", this.matchId);
    return q.toString();
  }

  openEventSource(ticket) {
    const params = { ticket };
    if (this.lastEventId !== null) params.lastEventId = this.lastEventId;
    const es = new EventSource(`${this.sseUrl}?${this.query(params)}`);
    this.source = es;
    let opened = false;
    es.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.onStatus("live");
    };
    const onMessage = (m) => this.deliver(JSON.parse(m.data));
    for (const type of EVENT_TYPES) es.addEventListener(type, onMessage);
    es.addEventListener("reset", async () => {
      // Our position is gone: reload state, then follow from the snapshot.
      this.closeSource();
      await this.reload();
      this.connect();
    });
    // The membership changed (`membership_ended`): reconnect with what it still grants;
    // a member who left is refused the ticket, and backs off.
    es.addEventListener("closed", () => this.retry());
    // The ticket was single-use: never let EventSource reconnect by itself.
    es.onerror = async () => {
      this.closeSource();
      if (!opened && this.fallbackToWebSocket && (await this.sseRefused())) {
        this.transport = "websocket";
        this.onStatus("fallback");
      }
      this.retry();
    };
  }

  // Whether the SSE endpoint refuses a stream with 429 right now (a fresh ticket; the
  // stream it may open instead is dropped at once).
  async sseRefused() {
    const abort = new AbortController();
    try {
      const res = await fetch(`${this.sseUrl}?${this.query({ ticket: await this.ticket() })}`, { signal: abort.signal });
      return res.status === 429;
    } catch (e) {
      return false;
    } finally {
      abort.abort();
    }
  }

  openWebSocket(ticket) {
    const url = `${this.wsUrl}?${new URLSearchParams({ ticket })}`;
    const ws = new WebSocket(url);
    this.source = ws;
    let held = []; // live events that arrive while the catch-up runs
    let catchingUp = true;
    // The pong to this ping proves the server delivers to this socket; only then is
    // the catch-up read, so nothing falls between the log and the live events.
    // Then a ping every 5 minutes: API Gateway closes a WebSocket idle for 10.
    let keepAlive = null;
    ws.onopen = () => {
      ws.send(JSON.stringify({ action: "ping", requestId: READY }));
      keepAlive = setInterval(() => ws.send(JSON.stringify({ action: "ping" })), KEEPALIVE_MS);
    };
    const caughtUp = async () => {
      this.attempt = 0;
      try {
        await this.catchUp();
      } catch (e) {
        ws.close();
        return;
      }
      catchingUp = false;
      held.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)).forEach((e) => this.deliver(e));
      held = [];
      this.onStatus("live");
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "pong" && msg.requestId === READY) return caughtUp();
      if (!msg.id || !msg.type) return; // acks, pongs and errors are not events
      if (this.types && !this.types.includes(msg.type)) return;
      if (this.matchId && (msg.payload || {}).matchId !== this.matchId) return;
      if (catchingUp) held.push(msg);
      else this.deliver(msg);
    };
    ws.onclose = () => {
      clearInterval(keepAlive);
      this.retry();
    };
    ws.onerror = () => {};
  }

  // Reads the log after our position, page by page.
  async catchUp() {
    const token = await this.getToken();
    for (;;) {
      const after = this.lastEventId ?? "0";
      const res = await fetch(`${this.apiUrl}/events/catch-up?${new URLSearchParams({ after, limit: "500" })}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`catch-up: ${res.status}`);
      const page = await res.json();
      if (page.reset) {
        await this.reload();
        continue;
      }
      const wanted = page.data.filter((e) =>
        (!this.types || this.types.includes(e.type)) &&
        (!this.matchId || (e.payload || {}).matchId === this.matchId));
      wanted.forEach((e) => this.deliver(e));
      // Filtered-out events still move the position on.
      if (page.data.length && BigInt(page.next) > BigInt(this.lastEventId ?? "0")) this.lastEventId = page.next;
      if (page.data.length === 0) return;
    }
  }
}
