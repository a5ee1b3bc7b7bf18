// Loaded before the official protocol test suites (node --import). They talk to
// http://localhost:3000, hard-coded: this points them at the sockd a test started, on
// 127.0.0.1 and the port in SOCKD_SUITE_PORT, by wrapping the fetch and WebSocket the
// suites install as globals.
//
// The suites are written for browsers as well, where each WebSocket event is a task of its
// own, so a test's next `await waitFor(socket, "message")` is listening before the next
// message is dispatched. Node's ws emits every message of one read at once: two packets
// the server wrote back to back (a CONNECT answer and the event after it, a ping) can
// arrive in one read, and the second would reach no listener. Events are therefore
// dispatched one per turn of the event loop here, in order, as a browser dispatches them.
const target = `127.0.0.1:${process.env.SOCKD_SUITE_PORT}`;
const rewrite = (url) => String(url).replace("localhost:3000", target);

let suiteFetch = globalThis.fetch;
let SuiteWebSocket = globalThis.WebSocket;

Object.defineProperty(globalThis, "fetch", {
  configurable: true,
  get: () => suiteFetch,
  set: (fetch) => {
    suiteFetch = (url, ...rest) => fetch(rewrite(url), ...rest);
  },
});

Object.defineProperty(globalThis, "WebSocket", {
  configurable: true,
  get: () => SuiteWebSocket,
  set: (WebSocket) => {
    SuiteWebSocket = class extends WebSocket {
      constructor(url, ...rest) {
        super(rewrite(url), ...rest);
      }

      // The first event of a turn is dispatched at once; the ones after it in the same
      // turn wait for a turn each (setImmediate), in order.
      emit(event, ...args) {
        if (this.waiting === undefined || this.waiting === null) {
          this.waiting = [];
          setImmediate(() => this.next());
          return super.emit(event, ...args);
        }
        this.waiting.push([event, args]);
        return true;
      }

      next() {
        const waiting = this.waiting.shift();
        if (waiting === undefined) {
          this.waiting = null;
          return;
        }
        setImmediate(() => this.next());
        super.emit(waiting[0], ...waiting[1]);
      }
    };
  },
});
