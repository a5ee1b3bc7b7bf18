// The Node baseline of sockd's benchmark: socket.io 4.8 on N node:cluster workers, the
// primary handing each accepted TCP connection to a worker chosen by a hash of the client's
// IP address (the fd passed before any byte is read, as sockd's master does), and the
// workers sharing rooms and broadcasts through @socket.io/cluster-adapter, relayed by the
// primary (as sockd's IPC bus is relayed by its master).
//
//   node bench/node/server.js --port PORT --workers N
//
// It serves the app of bench/app.py: `echo` (ack with the payload), `join` (enter a room,
// ack true), `fanout` (emit `fan` with the payload to `data.room`, across workers).
// The primary prints "node cluster ready" once every worker is up and the port is bound.
// With BENCH_NODE_PROFILE_DIR set, SIGUSR2 to a worker starts a V8 CPU profile and the next
// SIGUSR2 writes it there (python -m bench.profile samples the measured window this way).
// @socket.io/sticky is not used: its primary parses each request's first chunk, routes by
// sid or least-connection (not by address) and relays request bodies over IPC, so the
// primary stays in the data path; here, as in sockd, it never reads a byte.
"use strict";

const cluster = require("node:cluster");
const http = require("node:http");
const net = require("node:net");
const { parseArgs } = require("node:util");
const fs = require("node:fs");
const path = require("node:path");

const HANDOFF = "sockd-bench:connection";

// socket.io's defaults, spelled out where they decide fairness against python-socketio's
// defaults in sockd: ping 25 s / 20 s, 1 MB max message, permessage-deflate off, HTTP
// compression on, no CORS (same origin only). The client bundle is not served (sockd
// serves none).
const SOCKET_IO_OPTIONS = {
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  perMessageDeflate: false,
  httpCompression: true,
  serveClient: false,
};

function options() {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      workers: { type: "string", default: "2" },
    },
  });
  const port = Number(values.port);
  const workers = Number(values.workers);
  if (!Number.isInteger(port) || !Number.isInteger(workers) || workers < 1) {
    console.error("usage: node server.js --port PORT [--workers N] [--host HOST]");
    process.exit(2);
  }
  return { port, workers, host: values.host };
}

// FNV-1a over the address text: any stable hash does; the point is the same client (IP)
// always reaching the same worker, as with sockd's --sticky.
function slotOf(address, slots) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    hash ^= address.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % slots;
}

function runPrimary({ port, workers: count, host }) {
  require("@socket.io/cluster-adapter").setupPrimary();
  const workers = [];
  let ready = 0;
  let stopping = false;
  for (let slot = 0; slot < count; slot++) {
    const worker = cluster.fork();
    worker.on("message", (message) => {
      if (message === "ready" && ++ready === count) listen();
    });
    worker.on("exit", (code, signal) => {
      if (stopping) return;
      console.error(`node cluster: worker ${slot} exited (${signal || code}), stopping`);
      stop(1);
    });
    workers.push(worker);
  }

  // pauseOnConnect: nothing is read here; noDelay is set on the shared socket, as
  // sockd's master sets TCP_NODELAY before its hand-off.
  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    const worker = workers[slotOf(socket.remoteAddress || "", count)];
    worker.send(HANDOFF, socket, (error) => {
      if (error) socket.destroy();
    });
  });

  function listen() {
    server.listen({ port, host, backlog: 2048 }, () => {
      console.log(`node cluster ready: ${count} workers on ${host}:${port}`);
    });
  }

  function stop(code) {
    stopping = true;
    server.close();
    for (const worker of workers) worker.process.kill("SIGTERM");
    setTimeout(() => process.exit(code), 2000).unref();
    let left = workers.filter((w) => w.process.exitCode === null).length;
    if (left === 0) process.exit(code);
    for (const worker of workers) {
      worker.process.once("exit", () => {
        if (--left === 0) process.exit(code);
      });
    }
  }

  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
}

function runWorker() {
  const { Server } = require("socket.io");
  const { createAdapter } = require("@socket.io/cluster-adapter");
  const httpServer = http.createServer();
  const io = new Server(httpServer, { ...SOCKET_IO_OPTIONS, adapter: createAdapter() });

  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => {
      if (typeof ack === "function") ack(data);
    });
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack(true);
    });
    socket.on("fanout", (data) => {
      io.to(data.room).emit("fan", data);
    });
  });

  process.on("message", (message, socket) => {
    if (message !== HANDOFF || !socket) return; // closed while in transit: nothing to serve
    httpServer.emit("connection", socket);
    socket.resume();
  });
  process.on("SIGTERM", () => process.exit(0));
  if (process.env.BENCH_NODE_PROFILE_DIR) profileOnSignal(process.env.BENCH_NODE_PROFILE_DIR);
  process.send("ready");
}

function profileOnSignal(directory) {
  const inspector = require("node:inspector");
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.enable", () => session.post("Profiler.start"));
      return;
    }
    running = false;
    session.post("Profiler.stop", (error, result) => {
      if (error) return console.error(`node cluster: profile failed: ${error}`);
      const file = path.join(directory, `worker-${process.pid}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}

if (cluster.isPrimary) {
  runPrimary(options());
} else {
  runWorker();
}
