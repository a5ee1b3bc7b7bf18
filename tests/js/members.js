// Room members on the official Socket.IO client, one per source address, for the multi-host
// tests (tests/e2e/multihost/js_members.py runs it in the client namespace).
//
// Each client connects over WebSocket from its own address, retrying as the Python test
// clients do (after 0.2 s, then up to 1 s). On every connect that did not recover its
// session (the first one, or a recovery that failed) it joins ROOM, as an app would; on
// every connect it asks the server `whoami` and reports it. It reports every `news` it gets
// and every disconnect, one JSON line each:
//   {"c": I, "served": HOST, "id": SOCKET_ID, "recovered": BOOL, "app": WHOAMI, "at": MS}
//   {"c": I, "news": PAYLOAD}   {"c": I, "disconnect": REASON, "at": MS}   {"c": I, "error": TEXT}
// (I: the client's index among the sources; MS: Date.now()). When stdin closes, every
// client disconnects and the script exits 0; after OVERALL_MS it exits 1.
//
// Usage: node members.js URL ROOM SOURCE...

import http from "node:http";
import { io } from "socket.io-client";

const [url, room, ...sources] = process.argv.slice(2);
const OVERALL_MS = 120000;
const ACK_MS = 5000;

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function member(localAddress, c) {
  // The agent binds the source address (engine.io-client hands it to `ws`), so the
  // balancer and the master see each client as its own address.
  const agent = new http.Agent({ localAddress, keepAlive: true });
  const socket = io(url, {
    transports: ["websocket"],
    agent,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
    timeout: 5000,
  });
  socket.on("connect", async () => {
    const recovered = Boolean(socket.recovered);
    try {
      if (!recovered) await socket.timeout(ACK_MS).emitWithAck("join", room);
      const app = await socket.timeout(ACK_MS).emitWithAck("whoami");
      print({ c, served: app.host, id: socket.id, recovered, app, at: Date.now() });
    } catch (error) {
      print({ c, error: String(error) }); // cut short: the next connect reports again
    }
  });
  socket.on("news", (payload) => print({ c, news: payload }));
  socket.on("disconnect", (reason) => print({ c, disconnect: reason, at: Date.now() }));
  return { socket, agent };
}

const members = sources.map(member);

function finish(code) {
  for (const { socket, agent } of members) {
    socket.disconnect();
    agent.destroy();
  }
  // A moment for the DISCONNECT packets to leave before the process does.
  setTimeout(() => process.exit(code), 200);
}

setTimeout(() => {
  print({ error: `still running after ${OVERALL_MS} ms` });
  finish(1);
}, OVERALL_MS).unref();
process.stdin.on("end", () => finish(0));
process.stdin.resume();
