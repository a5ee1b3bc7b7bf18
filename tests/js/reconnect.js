// The official Socket.IO client against sockd: after the server ends the Engine.IO session,
// it must be reconnected and echoing within 2 seconds.
//
// Usage: node reconnect.js URL SOURCE_ADDRESS TRANSPORTS   (TRANSPORTS: polling,websocket)
// Prints one JSON line and exits 0 when the client came back in time, 1 otherwise.

import http from "node:http";
import { io } from "socket.io-client";

const [url, localAddress, transports] = process.argv.slice(2);
const BOUND_MS = 2000;
const OVERALL_MS = 20000;

// The agent binds the source address, so the master's sticky hash sees this client.
const agent = new http.Agent({ localAddress, keepAlive: true });
const socket = io(url, {
  transports: transports.split(","),
  agent,
  // As the python-socketio client of the Python tests: retry soon, as a browser would.
  reconnectionDelay: 200,
  reconnectionDelayMax: 1000,
  timeout: 5000,
});

function finish(code, result) {
  process.stdout.write(JSON.stringify(result) + "\n");
  socket.disconnect();
  agent.destroy();
  process.exit(code);
}

setTimeout(() => finish(1, { error: `no result within ${OVERALL_MS} ms` }), OVERALL_MS).unref();

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, resolve));
}

async function onFinalTransport() {
  const wanted = transports.split(",").at(-1);
  const engine = socket.io.engine;
  if (engine.transport.name !== wanted) {
    await once(engine, "upgrade");
  }
}

async function main() {
  if (!socket.connected) {
    await once(socket, "connect");
  }
  await onFinalTransport();
  const before = await socket.timeout(5000).emitWithAck("whoami");
  const transportBefore = socket.io.engine.transport.name;

  const disconnected = once(socket, "disconnect");
  const kickedAt = Date.now();
  socket.emit("end_transport");
  const reason = await disconnected;
  if (!socket.connected) {
    await once(socket, "connect");
  }
  const left = BOUND_MS - (Date.now() - kickedAt);
  let echo = null;
  if (left > 0) {
    echo = await socket.timeout(left).emitWithAck("echo", "after").catch((err) => String(err));
  }
  const elapsed = Date.now() - kickedAt;
  const after = await socket.timeout(5000).emitWithAck("whoami");
  const result = {
    reason,
    elapsedMs: elapsed,
    echo,
    transportBefore,
    eioSidBefore: before.eio_sid,
    eioSidAfter: after.eio_sid,
  };
  finish(elapsed <= BOUND_MS && echo === "after" ? 0 : 1, result);
}

main().catch((err) => finish(1, { error: String(err && err.stack ? err.stack : err) }));
