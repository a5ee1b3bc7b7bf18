"""The compat list: its order is the composition order, and pyproject repeats its versions."""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path
from typing import Any

import engineio
import socketio
from engineio.async_socket import AsyncSocket

from sockd.worker.compat.entries import ENTRIES, TESTED
from sockd.worker.compat.install import (
    AsyncServer,
    CompatConfig,
    applicable,
    compose,
    install,
    install_engineio,
    installed_versions,
)
from sockd.worker.compat.model import AppliedBy, DriverWrap, SerializerWrap, Versions
from sockd.worker.compat.sessions import session_class
from sockd.worker.protocol.heartbeat import PongDeadline
from tests.unit.worker.asgi_driver import handshake, request

REPO = Path(__file__).resolve().parents[4]


def _mixins(base: type) -> list[type]:
    active = applicable(ENTRIES, installed_versions())
    return [e.fix for e in active if isinstance(e.fix, type) and issubclass(e.fix, base)]


def _in_mro(cls: type, wanted: list[type]) -> list[type]:
    return [klass for klass in cls.__mro__ if klass in wanted]


def test_pyproject_admits_exactly_the_tested_versions() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    ranges = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([\w-]+)>=([\d.]+),<=([\d.]+)", requirement)
        if match and match[1] in TESTED:
            ranges[match[1]] = Versions(match[2], match[3])
    assert ranges == TESTED


def test_every_entry_says_why_and_what_upstream_change_removes_it() -> None:
    for entry in ENTRIES:
        assert entry.library in TESTED, entry.target
        assert entry.why and entry.upstream, entry.target
        if not isinstance(entry.fix, AppliedBy):
            assert re.search(r"\([\w/]+\.py", entry.why), f"{entry.target}: name the module"


def test_server_classes_compose_the_mixins_in_list_order() -> None:
    server = AsyncServer(async_mode="asgi")
    eio_mixins, sio_mixins = _mixins(engineio.AsyncServer), _mixins(socketio.AsyncServer)
    assert _in_mro(type(server), sio_mixins) == sio_mixins
    assert _in_mro(type(server.eio), eio_mixins) == eio_mixins
    assert type(server.eio).session_mixins == tuple(_mixins(AsyncSocket))
    # The library classes come after every mixin: each mixin is in front of them.
    mro = type(server.eio).__mro__
    assert mro.index(engineio.AsyncServer) > max(mro.index(m) for m in eio_mixins)


def test_sessions_compose_the_session_entries_in_list_order() -> None:
    mixins = _mixins(AsyncSocket)
    cls = session_class(tuple(mixins), AsyncSocket)
    assert _in_mro(cls, mixins) == mixins
    assert session_class(tuple(mixins), AsyncSocket) is cls  # built once


def test_the_wrappers_wrap_the_library_driver_and_packet_class() -> None:
    drivers = [e.fix.wrap for e in ENTRIES if isinstance(e.fix, DriverWrap)]
    serializers = [e.fix.wrap for e in ENTRIES if isinstance(e.fix, SerializerWrap)]
    calls: list[str] = []

    async def translate(scope: Any, receive: Any, send: Any) -> dict[str, Any]:
        calls.append("library")
        return {"asgi.scope": scope, "wsgi.input": None}

    eio = engineio.AsyncServer(async_mode="asgi")
    eio._async = {**eio._async, "translate_request": translate}
    sio = socketio.AsyncServer(async_mode="asgi")
    sio.eio = eio
    install(sio, CompatConfig())
    environ = asyncio.run(eio._async["translate_request"]({"client": ("10.1.2.3", 9)}, None, None))
    assert calls == ["library"] and environ["REMOTE_ADDR"] == "10.1.2.3"
    assert len(drivers) == 3 and len(serializers) == 3
    assert eio._async["make_response"].__name__ == "make_response_with_length"
    # plain(strict(json(library))): the plain-event one outermost, strict, then JSON.
    assert sio.packet_class.__name__ == f"Strict{socketio.packet.Packet.__name__}"
    assert hasattr(sio.packet_class, "decode_event")
    assert "decode" in vars(sio.packet_class.__mro__[1])
    assert sio.packet_class.max_json_depth == 100
    assert sio.packet_class.__mro__[2].json is not socketio.packet.Packet.json


def test_an_app_server_is_adopted_once_behind_the_mixins_keeping_its_own_class() -> None:
    class AppServer(socketio.AsyncServer):
        async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> Any:
            return await super()._handle_connect(eio_sid, namespace, data)

    sio = AppServer(async_mode="asgi")
    install(sio, CompatConfig(connect_timeout=3.0, slot=2))
    assert isinstance(sio, AppServer) and type(sio) is compose(AppServer)
    mro = type(sio).__mro__
    assert all(mro.index(m) < mro.index(AppServer) for m in _mixins(socketio.AsyncServer))
    # Engine.IO's handlers were bound to the library class; now to the adopted one.
    assert sio.eio.handlers["message"].__func__ is type(sio)._handle_eio_message
    assert sio.connect_timeout == 3.0 and sio.eio.session_slot == 2
    assert sio.eio.generate_id().endswith(".2")
    assert compose(type(sio)) is type(sio)


def test_a_version_specific_entry_applies_only_in_its_range() -> None:
    narrow = [e for e in ENTRIES if e.versions is not None]
    assert narrow
    for entry in narrow:
        assert entry.versions is not None
        versions = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", "uvicorn": "0.54.0"}
        inside = {**versions, entry.library: entry.versions.newest}
        assert entry in applicable(ENTRIES, inside)
        newest = TESTED[entry.library].newest
        assert entry not in applicable(ENTRIES, {**versions, entry.library: newest})


def test_the_engineio_entries_install_on_an_engineio_server_alone() -> None:
    async def scenario() -> tuple[int, str, bool]:
        eio = engineio.AsyncServer(async_mode="asgi", monitor_clients=False, ping_interval=0.5)
        install_engineio(eio, CompatConfig())
        app = engineio.ASGIApp(eio, engineio_path="socket.io")
        opened = await request(app)
        sid = await handshake(app)
        posted = await request(app, "POST", "4hello", sid=sid)
        ping_interval = int(opened.body.split('"pingInterval":')[1].split(",")[0])
        return ping_interval, posted.body, isinstance(eio.sockets[sid], PongDeadline)

    assert asyncio.run(scenario()) == (500, "ok", True)
