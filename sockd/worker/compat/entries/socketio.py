"""The compat entries for python-socketio's server, its packet class and its Admin UI (in order)."""

from __future__ import annotations

from sockd.worker.app_model.generate_id import EngineIdSockets
from sockd.worker.compat.model import AppliedBy, Entry, Need, SerializerWrap
from sockd.worker.hosting.counters import Counted
from sockd.worker.hot_path.ack_text import AckText
from sockd.worker.hot_path.event_calls import EventCalls
from sockd.worker.hot_path.packet_json import json_packet_class
from sockd.worker.hot_path.plain_events import PlainEvents, plain_event_class
from sockd.worker.protocol.closed_sessions import LatePackets
from sockd.worker.protocol.connect_timeout import ConnectTimeout
from sockd.worker.protocol.malformed_packets import MalformedPacketCloses, strict_packet_class
from sockd.worker.protocol.namespaces import InvalidNamespace
from sockd.worker.recovery.server import RecoveringServer

_SIO = "socketio.AsyncServer"
_ADMIN = "socketio.async_admin.InstrumentedAsyncServer"
_BASE = "socketio.base_manager.BaseManager"
_SELF = ("self",)

SOCKETIO: tuple[Entry, ...] = (
    # -- Socket.IO server: socketio.AsyncServer -------------------------------------------
    Entry(
        f"{_SIO}._trigger_event",
        Counted,
        "connects and events counted, handlers timed, for the metrics (hosting/counters.py)",
        "a hook called with each connect's and event's namespace, outcome and duration",
        needs=(Need(f"{_SIO}._trigger_event", ("self", "event", "namespace", "args")),),
    ),
    Entry(
        f"{_SIO}._trigger_event",
        EventCalls,
        "a client event's handler is called without the per-event coroutine check "
        "(hot_path/event_calls.py)",
        "decide iscoroutinefunction once per handler, when it is registered",
        needs=(Need(f"{_SIO}._get_event_handler", ("self", "event", "namespace", "args")),),
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
        f"{_SIO}._handle_eio_message",
        PlainEvents,
        "a plain text event is decoded without a packet object (hot_path/plain_events.py)",
        "a decoder from message text to (type, namespace, id, data) without a packet object",
        needs=(Need(f"{_SIO}._handle_eio_message", ("self", "eio_sid", "data")),),
    ),
    Entry(
        f"{_SIO}._handle_event_internal",
        AckText,
        "an ack is sent as text straight to the session, without a packet object "
        "(hot_path/ack_text.py)",
        "encode a non-binary ack in one step and hand it to the Engine.IO session",
        needs=(
            Need(
                f"{_SIO}._handle_event_internal",
                ("self", "server", "sid", "eio_sid", "data", "namespace", "id"),
            ),
            Need("socketio.packet.Packet.encode", ("self",)),
        ),
    ),
    Entry(
        f"{_SIO}.packet_class",
        SerializerWrap(plain_event_class),
        "the strict class's checks in one function for plain text events, binary data "
        "tested in one walk (hot_path/plain_events.py)",
        "a decoder from message text to (type, namespace, id, data) without a packet object",
        needs=(Need("socketio.packet.Packet.data_is_binary", ("data",)),),
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
)
