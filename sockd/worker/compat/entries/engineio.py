"""The compat entries for python-engineio: its server, then its sessions (in order)."""

from __future__ import annotations

from sockd.worker.app_model.generate_id import HandshakeIds
from sockd.worker.cluster.session_time import SessionTime
from sockd.worker.compat.model import DriverWrap, Entry, Need, Versions
from sockd.worker.compat.sessions import SessionStart
from sockd.worker.hosting.real_address import with_real_address
from sockd.worker.hosting.sid_owner import SlotTags
from sockd.worker.hot_path.direct_read import DirectRead
from sockd.worker.hot_path.direct_write import DirectWrite
from sockd.worker.hot_path.lean_queue import LeanQueues
from sockd.worker.hot_path.message_events import MessageEvents
from sockd.worker.hot_path.request_body import with_request_body
from sockd.worker.hot_path.writer_poll import TimerPoll
from sockd.worker.protocol.body_limit import BodyLimit
from sockd.worker.protocol.chunked_post import ChunkedPost
from sockd.worker.protocol.client_close import ClientClose
from sockd.worker.protocol.closed_sessions import ClosedSessions, PostAfterEnd
from sockd.worker.protocol.closing import ServerDisconnect
from sockd.worker.protocol.handshake import ExactPingInterval
from sockd.worker.protocol.heartbeat import PongDeadline
from sockd.worker.protocol.invalid_packets import InvalidPacketCloses
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

_SERVER = "engineio.AsyncServer"
_SOCKET = "engineio.async_socket.AsyncSocket"
_SELF = ("self",)
_ENVIRON = ("self", "environ")

ENGINEIO: tuple[Entry, ...] = (
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
        MessageEvents,
        "each message goes to its handler without a closure and a coroutine check "
        "(hot_path/message_events.py)",
        "call the message handler directly; decide iscoroutinefunction once, in on()",
        needs=(Need(f"{_SERVER}._trigger_event", ("self", "event", "args", "kwargs")),),
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
)
