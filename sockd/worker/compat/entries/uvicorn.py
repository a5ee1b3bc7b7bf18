"""The compat entries for uvicorn: all applied by sockd's uvicorn adapter, listed for the guard."""

from __future__ import annotations

from sockd.worker.compat.model import AppliedBy, Entry, Need

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol"
_HTTP = "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol"
_PROTOCOL_INIT = ("self", "config", "server_state", "app_state", "_loop")
_ADAPTER = AppliedBy("sockd/worker/hosting/uvicorn_adapter/")
_SELF = ("self",)

UVICORN: tuple[Entry, ...] = (
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
        "send_now for the direct write (a broadcast's text frame built once), lean queues, "
        "handshake headers let go (hot_path/direct_write.py, hot_path/lean_queue.py)",
        "a synchronous send when the transport is writable",
        needs=(
            Need(f"{_SANSIO}.__init__", _PROTOCOL_INIT),
            Need(f"{_SANSIO}.send", ("self", "message")),
            Need(f"{_SANSIO}.start_keepalive", _SELF),
            Need(f"{_SANSIO}.pause_writing", _SELF),
            # uvicorn's WebSocket library: the frame send_now builds as its send_text would
            Need("websockets.frames.Frame.serialize", ("self", "mask", "extensions")),
            Need("websockets.protocol.Protocol.send_frame", ("self", "frame")),
        ),
    ),
)
