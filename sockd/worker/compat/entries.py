"""Every change sockd makes to python-engineio, python-socketio and uvicorn internals, in
the order they are composed: the one list (:data:`ENTRIES`), and the library versions it
is tested with (:data:`TESTED`, which pyproject.toml's ranges repeat exactly).

Order: for each library class, an entry earlier in the list is in front of a later one
(it sees a call first, and calls the later one through ``super()``); wrappers likewise.
Engine.IO entries come before and apart from Socket.IO ones, so they can be installed on an
Engine.IO server alone. The fixes themselves live in ``sockd/worker/protocol/`` (each states
the specification and the library's behaviour), ``sockd/worker/hot_path/`` (each quotes
its measured gain) and ``sockd/worker/hosting/``; :mod:`sockd.worker.compat.install`
installs the list, :mod:`sockd.worker.compat.guard` checks it before a worker starts.
"""

from __future__ import annotations

from sockd.worker.app_model.generate_id import EngineIdSockets, HandshakeIds
from sockd.worker.cluster.session_time import SessionTime
from sockd.worker.compat.model import AppliedBy, DriverWrap, Entry, Need, SerializerWrap, Versions
from sockd.worker.compat.sessions import SessionStart
from sockd.worker.hosting.counters import Counted
from sockd.worker.hosting.real_address import with_real_address
from sockd.worker.hosting.sid_owner import SlotTags
from sockd.worker.hot_path.direct_read import DirectRead
from sockd.worker.hot_path.direct_write import DirectWrite
from sockd.worker.hot_path.lean_queue import LeanQueues
from sockd.worker.hot_path.packet_json import json_packet_class
from sockd.worker.hot_path.request_body import with_request_body
from sockd.worker.hot_path.writer_poll import TimerPoll
from sockd.worker.protocol.body_limit import BodyLimit
from sockd.worker.protocol.chunked_post import ChunkedPost
from sockd.worker.protocol.client_close import ClientClose
from sockd.worker.protocol.closed_sessions import ClosedSessions, LatePackets, PostAfterEnd
from sockd.worker.protocol.closing import ServerDisconnect
from sockd.worker.protocol.connect_timeout import ConnectTimeout
from sockd.worker.protocol.handshake import ExactPingInterval
from sockd.worker.protocol.heartbeat import PongDeadline
from sockd.worker.protocol.invalid_packets import InvalidPacketCloses
from sockd.worker.protocol.malformed_packets import MalformedPacketCloses, strict_packet_class
from sockd.worker.protocol.namespaces import InvalidNamespace
from sockd.worker.protocol.packet_types import UnknownTypeCloses
from sockd.worker.protocol.polling import OkAnswer, SinglePoll
from sockd.worker.protocol.request_checks import RequestChecks
from sockd.worker.protocol.response_length import with_length
from sockd.worker.protocol.upgrade import (
    NoPostAfterUpgrade,
    SingleUpgrade,
    UpgradedSessionWebSocket,
)
from sockd.worker.protocol.vanished_client import VanishedClient
from sockd.worker.recovery.server import RecoveringServer

#: The releases each library is tested with, lowest and newest (scripts/test.sh runs both).
TESTED = {
    "python-socketio": Versions("5.16.1", "5.18.1"),
    "python-engineio": Versions("4.11.0", "4.15.1"),
    "uvicorn": Versions("0.52.1", "0.54.0"),
}

_SERVER = "engineio.AsyncServer"
_SOCKET = "engineio.async_socket.AsyncSocket"
_SIO = "socketio.AsyncServer"
_ADMIN = "socketio.async_admin.InstrumentedAsyncServer"
_BASE = "socketio.base_manager.BaseManager"
_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol"
_HTTP = "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol"
_PROTOCOL_INIT = ("self", "config", "server_state", "app_state", "_loop")
_ADAPTER = AppliedBy("sockd/worker/hosting/uvicorn_adapter/")
_SELF = ("self",)
_ENVIRON = ("self", "environ")

ENTRIES: tuple[Entry, ...] = (
    # -- Engine.IO server: engineio.AsyncServer --------------------------------------------
    Entry(
        f"{_SERVER}.handle_request",
        VanishedClient,
        "a request whose client left before it arrived ends quietly, not in a KeyError "
        "traceback (protocol/vanished_client.py)",
        "return at once when translate_request finds the client gone",
    ),
    Entry(
        f"{_SERVER}.handle_request",
        BodyLimit,
        "a body past max_http_buffer_size is not read whole (protocol/body_limit.py)",
        "none: python-engineio reads bodies on demand since 4.13",
        versions=Versions("4.11.0", "4.12.3"),
    ),
    Entry(
        f"{_SERVER}.handle_request",
        RequestChecks,
        "requests without a known transport or EIO=4, other methods: 400 "
        "(protocol/request_checks.py)",
        "validate transport, EIO and method on every request, answering 400",
        needs=(
            Need(f"{_SERVER}.handle_request", ("self", "args", "kwargs")),
            Need(f"{_SERVER}._make_response", ("self", "response_dict", "environ")),
            Need(f"{_SERVER}._bad_request", ("self", "message")),
        ),
    ),
    Entry(
        f"{_SERVER}.handle_request",
        NoPostAfterUpgrade,
        "a POST for an upgraded session gets 400 (protocol/upgrade.py)",
        "none: python-engineio (4.11-4.15) refuses it",
        versions=Versions("4.11.0", "4.14.0"),
    ),
    Entry(
        f"{_SERVER}.handle_request",
        ClosedSessions,
        "a request of a closed session gets 400, a POST too (protocol/closed_sessions.py)",
        "answer 400 for a closed session in the POST path as in the GET path",
    ),
    Entry(
        f"{_SERVER}.handle_request",
        UpgradedSessionWebSocket,
        "a WebSocket for an upgraded session is accepted, then closed (protocol/upgrade.py)",
        "accept and close such a WebSocket, as Node's engine.io does",
    ),
    Entry(
        "engineio.async_drivers.asgi.translate_request",
        DriverWrap(with_real_address),
        "REMOTE_ADDR is the client's, not 127.0.0.1 (hosting/real_address.py)",
        "take REMOTE_ADDR and REMOTE_PORT from the ASGI scope's client",
        needs=(
            Need("engineio.async_drivers.asgi.translate_request", ("scope", "receive", "send")),
        ),
    ),
    Entry(
        "engineio.async_drivers.asgi.translate_request",
        DriverWrap(with_request_body),
        "one request-body class instead of one per request (hot_path/request_body.py)",
        "define AwaitablePayload at module level",
    ),
    Entry(
        "engineio.async_drivers.asgi.make_response",
        DriverWrap(with_length, "make_response"),
        "HTTP answers carry Content-Length, not chunks (protocol/response_length.py)",
        "send Content-Length with the body in the ASGI driver's make_response",
        needs=(
            Need(
                "engineio.async_drivers.asgi.make_response",
                ("status", "headers", "payload", "environ"),
            ),
        ),
    ),
    Entry(
        f"{_SERVER}._ok",
        OkAnswer,
        "a POST is answered ok, not OK (protocol/polling.py)",
        "answer 'ok' as the specification and Node's engine.io do",
        needs=(Need(f"{_SERVER}._ok", ("self", "packets", "headers", "jsonp_index")),),
    ),
    Entry(
        f"{_SERVER}.disconnect",
        ServerDisconnect,
        "a session the server ends is closed without the close packet, so clients reconnect "
        "(protocol/closing.py)",
        "close the transport instead of sending the close packet on a server disconnect",
        needs=(
            Need(f"{_SERVER}.disconnect", ("self", "sid")),
            Need(f"{_SOCKET}.close", ("self", "wait", "abort", "reason")),
            Need("engineio.AsyncServer.reason.TRANSPORT_ERROR"),
        ),
    ),
    Entry(
        f"{_SERVER}.create_queue",
        LeanQueues,
        "session queues without 760-byte deques (hot_path/lean_queue.py)",
        "none expected: the memory is asyncio's",
        needs=(Need(f"{_SERVER}.create_queue", ("self", "args", "kwargs")),),
    ),
    Entry(
        f"{_SERVER}.generate_id",
        SlotTags,
        "with --sticky-key sid, session ids name their worker (hosting/sid_owner.py)",
        "none: sockd's own routing",
        needs=(Need(f"{_SERVER}.generate_id", _SELF),),
    ),
    Entry(
        f"{_SERVER}.generate_id",
        HandshakeIds,
        "an app directory's generate_id(request) names its sessions (app_model/generate_id.py)",
        "pass the handshake's environ to generate_id, and await it",
    ),
    Entry(
        f"{_SERVER}._trigger_event",
        SessionStart,
        "each new session gets the session entries below (compat/sessions.py)",
        "a socket_class attribute or argument on AsyncServer",
        needs=(
            Need(f"{_SERVER}._trigger_event", ("self", "event", "args", "kwargs")),
            Need(f"{_SERVER}._handle_connect", ("self", "environ", "transport", "jsonp_index")),
        ),
    ),
    # -- Engine.IO sessions: engineio.async_socket.AsyncSocket ---------------------------
    Entry(
        f"{_SOCKET}.send",
        DirectWrite,
        "a packet for an idle WebSocket is written at once (hot_path/direct_write.py)",
        "a writer that sends directly when nothing is queued",
        needs=(
            Need(f"{_SOCKET}.send", ("self", "pkt")),
            Need("engineio.async_drivers.asgi.WebSocket.__call__", ("self", "environ")),
        ),
    ),
    Entry(
        f"{_SOCKET}.poll",
        TimerPoll,
        "the writer waits under asyncio.timeout, not a wait_for task (hot_path/writer_poll.py)",
        "asyncio.timeout in AsyncSocket.poll (Python >= 3.11)",
        needs=(Need(f"{_SOCKET}.poll", _SELF),),
    ),
    Entry(
        f"{_SOCKET}.check_ping_timeout",
        PongDeadline,
        "a silent client is gone pingInterval + pingTimeout later (protocol/heartbeat.py)",
        "a per-session pong deadline timer",
        needs=(
            Need(f"{_SOCKET}.schedule_ping", _SELF),
            Need(f"{_SOCKET}.check_ping_timeout", _SELF),
        ),
    ),
    Entry(
        f"{_SERVER}._handle_connect",
        ExactPingInterval,
        "the handshake's pingInterval is exact, sub-second ones too (protocol/handshake.py)",
        "round((ping_interval + grace) * 1000) in the open packet",
    ),
    Entry(
        f"{_SOCKET}.receive",
        ClientClose,
        "the client's close packet ends the poll or the WebSocket at once "
        "(protocol/client_close.py)",
        "end the transport on a client close packet",
        needs=(Need(f"{_SOCKET}.receive", ("self", "pkt")),),
    ),
    Entry(
        f"{_SOCKET}.receive",
        UnknownTypeCloses,
        "a packet type outside 0-6 closes the session (protocol/packet_types.py)",
        "decode unknown packet types as an error and close the session",
    ),
    Entry(
        f"{_SOCKET}._upgrade_websocket",
        SingleUpgrade,
        "one upgrade per session, no noop on the WebSocket (protocol/upgrade.py)",
        "refuse a WebSocket while upgrading; queue the noop only for a pending poll",
        needs=(
            Need(f"{_SOCKET}._upgrade_websocket", _ENVIRON),
            Need(f"{_SOCKET}._websocket_handler", ("self", "ws")),
        ),
    ),
    Entry(
        f"{_SOCKET}.handle_get_request",
        SinglePoll,
        "a second concurrent poll closes the session (protocol/polling.py)",
        "refuse a GET while one is pending",
        needs=(Need(f"{_SOCKET}.handle_get_request", _ENVIRON),),
    ),
    Entry(
        f"{_SOCKET}.handle_post_request",
        InvalidPacketCloses,
        "an undecodable packet closes the session (protocol/invalid_packets.py)",
        "close the session on a decoding error, POST and WebSocket alike",
        needs=(Need(f"{_SOCKET}.handle_post_request", _ENVIRON),),
    ),
    Entry(
        f"{_SOCKET}.handle_post_request",
        PostAfterEnd,
        "a POST failing on a session ended meanwhile gets 400 (protocol/closed_sessions.py)",
        "set the 400 answer in the POST path whether or not the session is still listed",
    ),
    Entry(
        f"{_SOCKET}.handle_post_request",
        ChunkedPost,
        "a chunked POST body is read, bounded (protocol/chunked_post.py)",
        "read the body until its end when there is no Content-Length",
    ),
    Entry(
        f"{_SOCKET}._websocket_handler",
        DirectRead,
        "each WebSocket message is received without a task of its own (hot_path/direct_read.py)",
        "read in the handler's task under the pong deadline, not wait_for(ensure_future())",
        needs=(
            Need(f"{_SOCKET}._websocket_handler", ("self", "ws")),
            Need("engineio.async_drivers.asgi.WebSocket.wait", _SELF),
        ),
    ),
    Entry(
        _SOCKET,
        SessionTime,
        "each session notes when it started, the handshake time of sockd.cluster's socket "
        "records (cluster/session_time.py)",
        "a start time on engineio's socket",
    ),
    # -- Socket.IO server: socketio.AsyncServer -------------------------------------------
    Entry(
        f"{_SIO}._trigger_event",
        Counted,
        "connects and events counted, handlers timed, for the metrics (hosting/counters.py)",
        "a hook called with each connect's and event's namespace, outcome and duration",
        needs=(Need(f"{_SIO}._trigger_event", ("self", "event", "namespace", "args")),),
    ),
    Entry(
        f"{_SIO}._handle_connect",
        ConnectTimeout,
        "a client in no namespace after --connect-timeout is closed (protocol/connect_timeout.py)",
        "a connect_timeout argument, as Node's connectTimeout",
        needs=(
            Need(f"{_SIO}._handle_eio_connect", ("self", "eio_sid", "environ")),
            Need(f"{_SIO}._handle_connect", ("self", "eio_sid", "namespace", "data")),
            Need(f"{_SIO}._engineio_server_class", _SELF),
        ),
    ),
    Entry(
        f"{_SIO}._handle_connect",
        InvalidNamespace,
        'an unknown namespace is refused with {"message":"Invalid namespace"} '
        "(protocol/namespaces.py)",
        "send the spec's error object for an unknown namespace",
    ),
    Entry(
        f"{_SIO}._handle_connect",
        EngineIdSockets,
        "the default namespace's socket gets the id the app's generate_id made "
        "(app_model/generate_id.py)",
        "none: egg-socket.io's model",
    ),
    Entry(
        f"{_SIO}._handle_connect",
        RecoveringServer,
        "connection state recovery: the pid in the CONNECT reply, a claimed session restored, "
        "losses told from ends (recovery/server.py; its manager: recovery/manager.py)",
        "connection state recovery in python-socketio (Node's connectionStateRecovery)",
        needs=(
            Need(f"{_SIO}._trigger_event", ("self", "event", "namespace", "args")),
            Need(f"{_SIO}._send_packet", ("self", "eio_sid", "pkt")),
            Need(f"{_SIO}._handle_eio_disconnect", ("self", "eio_sid", "reason")),
            Need(f"{_SIO}.save_session", ("self", "sid", "session", "namespace")),
            Need(f"{_BASE}.basic_enter_room", ("self", "sid", "namespace", "room", "eio_sid")),
            Need(f"{_BASE}.basic_leave_room", ("self", "sid", "namespace", "room")),
            Need(f"{_BASE}.basic_disconnect", ("self", "sid", "namespace", "kwargs")),
        ),
    ),
    Entry(
        f"{_SIO}._handle_eio_message",
        LatePackets,
        "a message handled after its session closed is dropped (protocol/closed_sessions.py)",
        "check the Engine.IO session before handling a message",
    ),
    Entry(
        f"{_SIO}._handle_eio_message",
        MalformedPacketCloses,
        "a malformed Socket.IO packet closes the connection (protocol/malformed_packets.py)",
        "close the Engine.IO session when a packet does not decode",
        needs=(Need(f"{_SIO}._handle_eio_message", ("self", "eio_sid", "data")),),
    ),
    Entry(
        f"{_SIO}.packet_class",
        SerializerWrap(strict_packet_class),
        "packets are decoded strictly, as socket.io-parser does, and within --max-json-depth "
        "(protocol/malformed_packets.py, protocol/json_depth.py)",
        "validate packet types, payloads and nesting in Packet.decode",
        needs=(Need("socketio.packet.Packet.decode", ("self", "encoded_packet")),),
    ),
    Entry(
        f"{_SIO}.packet_class",
        SerializerWrap(json_packet_class),
        "the packet JSON decoder and encoder are built once (hot_path/packet_json.py)",
        "call json with prebuilt JSONDecoder/JSONEncoder objects",
        needs=(Need("socketio.packet.Packet.json"),),
    ),
    Entry(
        _ADMIN,
        AppliedBy("sockd/worker/cluster/admin_ui.py"),
        "sio.instrument() taken off when the app is loaded, put back cluster-wide once the "
        "server has sockd's classes and bus",
        "instrumentation through hooks, not methods set on live objects",
        needs=(
            Need(f"{_ADMIN}.uninstrument", _SELF),
            Need(f"{_ADMIN}.admin_connect", ("self", "sid", "environ", "client_auth")),
            Need(f"{_ADMIN}.serialize_socket", ("self", "sid", "namespace", "eio_sid")),
            Need(f"{_ADMIN}._emit_server_stats", _SELF),
        ),
    ),
    # -- uvicorn ---------------------------------------------------------------------------
    Entry(
        "uvicorn.Server._serve",
        _ADAPTER,
        "serve sockets the master passes, with no listener of uvicorn's own",
        "a public way to serve an accepted socket",
        needs=(
            Need("uvicorn.Server._serve", ("self", "sockets")),
            Need("uvicorn.Config.load", _SELF),
            Need(f"{_HTTP}.__init__", _PROTOCOL_INIT),
        ),
    ),
    Entry(
        f"{_SANSIO}.connection_made",
        _ADAPTER,
        "scope['client'] is the address the master determined (PROXY, X-Forwarded-For)",
        "a per-connection client address argument",
        needs=(
            Need(f"{_HTTP}.connection_made", ("self", "transport")),
            Need(f"{_SANSIO}.connection_made", ("self", "transport")),
        ),
    ),
    Entry(
        f"{_SANSIO}.data_received",
        _ADAPTER,
        "frames sent before the app accepted are read once it did (a bad one logged an "
        "AssertionError); each failed WebSocket is counted as a client error",
        "read no frame before the handshake completed",
        needs=(
            Need(f"{_SANSIO}.data_received", ("self", "data")),
            Need(f"{_SANSIO}.handle_parser_exception", _SELF),
        ),
    ),
    Entry(
        f"{_SANSIO}.send",
        _ADAPTER,
        "send_now for the direct write, lean queues, handshake headers let go "
        "(hot_path/direct_write.py, hot_path/lean_queue.py)",
        "a synchronous send when the transport is writable",
        needs=(
            Need(f"{_SANSIO}.__init__", _PROTOCOL_INIT),
            Need(f"{_SANSIO}.send", ("self", "message")),
            Need(f"{_SANSIO}.start_keepalive", _SELF),
            Need(f"{_SANSIO}.pause_writing", _SELF),
        ),
    ),
)
