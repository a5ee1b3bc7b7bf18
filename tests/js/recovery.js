// Connection state recovery with the official Socket.IO client, across a disruption.
//
// Client A joins room "r"; client B joins it too and broadcasts `say` {n} to it every
// INTERVAL_MS, one at a time (the server broadcasts each as `said` and acks). Once A has received a few, the script
// prints {"event": "disrupt"} and the test disrupts A's connection (or, with MODE
// "transport", A closes its own transport). B goes on broadcasting through the gap and
// stops AFTER_RECOVERY messages after A is back; then the script prints one result line:
// what A received (each n, in order, and when B sent it), its socket id and `recovered`
// before and after, its connects and disconnects, what the server has for it, B's count.
//
// Usage: node recovery.js URL SOURCE_A SOURCE_B TRANSPORTS MODE [URL_B]
//   MODE: transport (A closes its own transport) | external (the test disrupts A's
//   connection) | steady (the test disrupts something else, e.g. Redis: A stays connected;
//   the script goes on for STEADY_MS). URL_B: where B connects, if not to URL.
// Exits 0 once the result line is printed; 1 (with an error line) when something timed out.

import http from "node:http";
import { io } from "socket.io-client";

const [url, sourceA, sourceB, transports, mode, urlB] = process.argv.slice(2);
const INTERVAL_MS = 40;
const BEFORE_DISRUPTION = 10;
const AFTER_RECOVERY = 15;
const OVERALL_MS = 45000;
const STEADY_MS = 6000;

function client(localAddress, name, target = url) {
  const agent = new http.Agent({ localAddress, keepAlive: true });
  const socket = io(target, {
    transports: transports.split(","),
    agent,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: 5000,
    auth: { name },
  });
  return { socket, agent };
}

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, resolve));
}

async function until(predicate, what, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const a = client(sourceA, "a");
const b = client(sourceB, "b", urlB || url);
const received = [];
const sentAt = [];
const offsets = [];
const events = [];
a.socket.on("said", (message, offset) => {
  received.push(message.n);
  sentAt.push(message.at);
  offsets.push(offset);
});
a.socket.on("disconnect", (reason) => events.push({ disconnect: reason, at: Date.now() }));
a.socket.on("connect", () =>
  events.push({ connect: a.socket.id, recovered: a.socket.recovered, at: Date.now() }),
);

function finish(code, line) {
  print(line);
  for (const { socket, agent } of [a, b]) {
    socket.disconnect();
    agent.destroy();
  }
  process.exit(code);
}

setTimeout(() => finish(1, { error: `no result within ${OVERALL_MS} ms`, events }), OVERALL_MS).unref();

async function main() {
  for (const { socket } of [a, b]) {
    if (!socket.connected) await once(socket, "connect");
  }
  const wanted = transports.split(",").at(-1);
  if (a.socket.io.engine.transport.name !== wanted) await once(a.socket.io.engine, "upgrade");
  const before = await a.socket.timeout(5000).emitWithAck("join", "r");
  const beforeB = await b.socket.timeout(5000).emitWithAck("join", "r");
  const idBefore = a.socket.id;

  // B sends one message at a time and waits for its ack: a message whose ack never came
  // (B's own connection was disrupted too) may or may not have been broadcast, and is not
  // sent again (a resend could be a duplicate of B's making, not the server's).
  let sent = 0;
  let stopAt = Infinity;
  const confirmed = [];
  const sender = (async () => {
    while (sent < stopAt) {
      sent += 1;
      const n = sent;
      try {
        await b.socket.timeout(3000).emitWithAck("say", { room: "r", n, at: Date.now() });
        confirmed.push(n);
      } catch (error) {
        if (!b.socket.connected) await once(b.socket, "connect");
      }
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    }
  })();

  await until(() => received.length >= BEFORE_DISRUPTION, "the first messages");
  const connectsBefore = events.filter((e) => e.connect).length;
  print({ event: "disrupt", a: before, b: beforeB });
  if (mode === "transport") a.socket.io.engine.close();
  if (mode === "steady") {
    await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  } else {
    await until(
      () => events.filter((e) => e.connect).length > connectsBefore && a.socket.connected,
      "A to reconnect",
      30000,
    );
  }
  stopAt = sent + AFTER_RECOVERY;
  await sender;
  await until(() => received.at(-1) === stopAt, "the last message", 15000).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show by now
  const after = await a.socket.timeout(5000).emitWithAck("whoami");
  finish(0, {
    event: "result",
    sent,
    confirmed,
    received,
    sentAt,
    offsets,
    idBefore,
    idAfter: a.socket.id,
    recovered: a.socket.recovered,
    workerBefore: before.worker,
    after,
    events,
  });
}

main().catch((err) => finish(1, { error: String(err && err.stack ? err.stack : err), events, received }));
