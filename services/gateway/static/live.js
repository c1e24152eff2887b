// Live seat counts over graphql-ws (sessionCounts), shared by the console and the residents' page.

const COUNTS = `subscription($id: ID!) { sessionCounts(sessionId: $id) {
  sessionId capacity seatsTaken seatsLeft waitlistLength status } }`;

/** A graphql-transport-ws client: one socket, one subscription per watched session. */
export class LiveCounts {
  constructor(onCounts, onState) {
    this.onCounts = onCounts;
    this.onState = onState;
    this.wanted = new Set();
    this.sent = new Set();
    this.socket = null;
    this.ready = false;
    this.retryMs = 1000;
  }

  connect() {
    if (this.socket || !("WebSocket" in window)) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        this.ready = true;
        this.retryMs = 1000;
        this.onState(true);
        this.flush();
      } else if (message.type === "next" && message.payload?.data?.sessionCounts) {
        this.onCounts(message.payload.data.sessionCounts);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "error" || message.type === "complete") {
        // Refused or ended: polling keeps that session's numbers fresh; no retry storm.
        this.wanted.delete(message.id);
      }
    });
    socket.addEventListener("close", () => {
      this.socket = null;
      this.ready = false;
      this.sent.clear();
      this.onState(false);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30000);
    });
  }

  watch(sessionIds) {
    this.wanted = new Set(sessionIds);
    for (const id of [...this.sent]) {
      if (!this.wanted.has(id)) {
        this.sent.delete(id);
        this.socket?.send(JSON.stringify({ id, type: "complete" }));
      }
    }
    this.flush();
  }

  flush() {
    if (!this.ready) return;
    for (const id of this.wanted) {
      if (this.sent.has(id)) continue;
      this.sent.add(id);
      this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: COUNTS, variables: { id } } }));
    }
  }
}
