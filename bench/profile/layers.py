"""Which layer of the stack a profiler sample's time belongs to, and what kind of work its
innermost frame does.

A sample is a stack of frames, outermost first, each written ``function (file:line)`` (py-spy's
raw format, native frames included) or ``function (url)`` (Node's CPU profile). The layer is
that of the innermost frame a rule claims; frames no rule claims (the standard library's
json, asyncio's futures and tasks, the interpreter's C code, libc) are neutral and count for
the layer that called them, so ``json.dumps`` under ``socketio/packet.py`` is Socket.IO
encoding. A sample no frame claims is the event loop's own work. Samples blocked in
``epoll_wait`` are idle, not CPU, and left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IDLE = "idle"
LOOP = "event loop (polling, callbacks, task steps)"


@dataclass(frozen=True)
class Rule:
    """Frames whose text matches ``pattern`` belong to ``layer``."""

    layer: str
    pattern: re.Pattern[str]


def _rules(*pairs: tuple[str, str]) -> tuple[Rule, ...]:
    return tuple(Rule(layer, re.compile(pattern)) for layer, pattern in pairs)


GC = "GC"
FRAMING = "WebSocket framing + ASGI glue"
EIO = "Engine.IO decode/encode, session"
SIO = "Socket.IO decode/encode"
DISPATCH = "handler dispatch (task per event, handler)"
ACK = "ack path (ack packet to Engine.IO)"
BROADCAST = "broadcast to local members"
WRITES = "writes (transport)"
READS = "reads (socket read syscalls)"
BUS = "bus"

#: A sample with any of these frames is the garbage collector's, whatever it interrupted.
PYTHON_GC = re.compile(r"\(gcmodule\.c|gc_collect")
#: The innermost frame (leaf) of a sample blocked waiting for events.
PYTHON_IDLE = re.compile(r"^(epoll_pwait|epoll_wait) ")

# Checked in order for each frame, innermost frame first; the first match decides.
PYTHON_RULES = _rules(
    (WRITES, r"^UVStream_write |^UVStream__|^_?sendmsg |^writev? \("),
    (WRITES, r"send_now \(|sockd/worker/hot_path/(direct_write|writer_poll)\.py"),
    (WRITES, r"\.<locals>\.writer \(|^_send_checked \("),
    (READS, r"^read \(libc|^uv__read "),
    (BUS, r"sockd/worker/bus/|sockd/wire/|socketio/async_(pubsub|redis)_manager\.py|redis/"),
    (BROADCAST, r"sockd/worker/hot_path/direct_emit\.py|socketio/async_manager\.py"),
    (BROADCAST, r"^BaseManager\.(get_participants|emit) "),
    # python-engineio runs each message's handler in a task, then python-socketio each event's.
    (DISPATCH, r"^AsyncServer\.(start_background_task|_trigger_event) \(engineio/"),
    (ACK, r"^AsyncServer\._send_packet \(socketio/"),
    (SIO, r"socketio/packet\.py|sockd/worker/protocol/malformed_packets\.py"),
    (SIO, r"sockd/worker/hot_path/packet_json\.py"),
    (DISPATCH, r"socketio/(async_server|base_server|base_manager)\.py|bench/app\.py"),
    (DISPATCH, r"sockd/worker/protocol/__init__\.py|sockd/worker/app_model/"),
    (EIO, r"engineio/|sockd/worker/hot_path/direct_read\.py|sockd/worker/protocol/"),
    (EIO, r"sockd/worker/hot_path/(lean_queue|request_body)\.py"),
    (FRAMING, r"websockets/|uvicorn/protocols/websockets/|sockd/worker/hosting/uvicorn_adapter"),
)

# Node's CPU profile: (garbage collector), (program) and (idle) are V8's own nodes.
NODE_GC = re.compile(r"^\(garbage collector\)")
NODE_IDLE = re.compile(r"^\(idle\)")
NODE_RULES = _rules(
    (READS, r"^onStreamRead "),
    (WRITES, r"^(writeUtf8String|writev|writeGeneric|writeBuffer|_writeGeneric|_writev) "),
    (WRITES, r"\(node:(net|internal/stream_base_commons)\)"),
    (BUS, r"@socket\.io/cluster-adapter/|\(node:(child_process|internal/child_process)"),
    (BUS, r"socket\.io-adapter/dist/cluster-adapter|node:internal/cluster"),
    (BROADCAST, r"socket\.io-adapter/|socket\.io/dist/broadcast-operator"),
    (SIO, r"socket\.io-parser/"),
    (ACK, r"^(ack|sendAck|_ack) \(.*socket\.io/dist/socket\.js"),
    (DISPATCH, r"socket\.io/dist/|bench/node/server\.js"),
    (EIO, r"engine\.io-parser/|engine\.io/build/"),
    (FRAMING, r"/ws/lib/"),
)


def _claim(frame: str, rules: Sequence[Rule]) -> str | None:
    return next((rule.layer for rule in rules if rule.pattern.search(frame)), None)


def layer_of(
    frames: Sequence[str], rules: Sequence[Rule], gc: re.Pattern[str], idle: re.Pattern[str]
) -> str:
    """The layer of one sample (frames outermost first). A write the bus makes itself (to
    the master, or to Redis) is the bus's; a delivery it hands on to clients is a write."""
    if not frames or idle.search(frames[-1]):
        return IDLE
    if any(gc.search(frame) for frame in frames):
        return GC
    claims = [claim for frame in reversed(frames) if (claim := _claim(frame, rules))]
    if not claims:
        return LOOP
    caller = next((claim for claim in claims if claim != WRITES), None)
    if claims[0] == WRITES and caller == BUS:
        return BUS
    return claims[0]


def shares(
    samples: Iterable[tuple[Sequence[str], float]],
    rules: Sequence[Rule],
    gc: re.Pattern[str],
    idle: re.Pattern[str],
) -> tuple[dict[str, float], float]:
    """Each layer's share (0..1) of the non-idle time, and that time (in the samples' unit)."""
    weights: dict[str, float] = defaultdict(float)
    for frames, weight in samples:
        weights[layer_of(frames, rules, gc, idle)] += weight
    busy = sum(w for layer, w in weights.items() if layer != IDLE)
    if busy <= 0:
        return {}, 0.0
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    return {layer: w / busy for layer, w in ranked if layer != IDLE}, busy


#: What the innermost frame itself does, across layers (py-spy frames).
LEAF_KINDS = _rules(
    ("syscalls (write, read, getpid, epoll_ctl)", r"\(libc\.so|^syscall "),
    ("json (encode, decode)", r"json/|_json\.c"),
    ("asyncio machinery (tasks, futures, queues)", r"asyncio/|_asynciomodule\.c|\(loop\.c:"),
    ("libuv", r"\((core|linux|stream|loop-watcher|timer|uv-common)\.c:"),
    ("interpreter C code (objects, strings)", r"\(libpython|\(\w+object\.c:|\(object\.h|ceval"),
)


def leaf_kind(frames: Sequence[str]) -> str:
    """The kind of work of a sample's innermost frame; 'Python code' when no kind matches."""
    leaf = frames[-1] if frames else ""
    for rule in LEAF_KINDS:
        if rule.pattern.search(leaf):
            return rule.layer
    return "Python code (self time)"


def under(samples: Iterable[tuple[Sequence[str], float]], pattern: str) -> float:
    """Total weight of the samples with a frame matching ``pattern`` (inclusive time)."""
    regex = re.compile(pattern)
    return sum(w for frames, w in samples if any(regex.search(f) for f in frames))
