"""The guard: library versions and the attributes the entries need, checked before a worker
starts, with fake version tables."""

from __future__ import annotations

import pytest

from sockd.worker.compat.entries import ENTRIES, TESTED
from sockd.worker.compat.guard import UnsupportedLibrary, check_libraries, need_problem
from sockd.worker.compat.model import Entry, Need, Versions

FAKE_TESTED = {
    "python-socketio": Versions("5.16.1", "5.18.1"),
    "python-engineio": Versions("4.12.0", "4.15.1"),
    "uvicorn": Versions("0.52.1", "0.54.0"),
}
SUPPORTED = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", "uvicorn": "0.54.0"}

HANDLER = "engineio.async_socket.AsyncSocket._websocket_handler"


def _entry(*needs: Need, versions: Versions | None = None) -> Entry:
    return Entry(HANDLER, object, "why (x.py)", "upstream", needs=needs, versions=versions)


def test_the_installed_libraries_fit_the_list() -> None:
    check_libraries()  # the versions this suite runs with are tested ones


def test_every_need_of_the_list_holds_for_the_installed_libraries() -> None:
    problems = [need_problem(need) for entry in ENTRIES for need in entry.needs]
    assert [p for p in problems if p] == []


def test_a_version_outside_the_tested_range_fails_with_one_line() -> None:
    versions = {**SUPPORTED, "python-engineio": "4.16.0"}
    with pytest.raises(UnsupportedLibrary) as raised:
        check_libraries(versions, FAKE_TESTED, entries=())
    message = str(raised.value)
    assert message.startswith("python-engineio 4.16.0 is not supported by sockd ")
    assert message.endswith("; supported: 4.12.0-4.15.1")
    assert "\n" not in message


def test_a_changed_signature_names_the_method() -> None:
    versions = {**SUPPORTED, "python-engineio": "4.16.0"}
    changed = _entry(Need(HANDLER, ("self", "websocket")))
    with pytest.raises(
        UnsupportedLibrary, match=r"^python-engineio 4\.16\.0 is not supported"
    ) as e:
        check_libraries(versions, FAKE_TESTED, entries=(changed,))
    assert "AsyncSocket._websocket_handler changed; supported: 4.12.0-4.15.1" in str(e.value)


def test_a_missing_attribute_is_named_as_gone() -> None:
    gone = _entry(Need("engineio.async_socket.AsyncSocket._read_loop"))
    with pytest.raises(UnsupportedLibrary, match=r"AsyncSocket\._read_loop is gone"):
        check_libraries(SUPPORTED, FAKE_TESTED, entries=(gone,))


def test_an_entry_for_other_versions_is_not_checked() -> None:
    elsewhere = _entry(
        Need("engineio.async_socket.AsyncSocket._read_loop"), versions=Versions("4.0.0", "4.10.0")
    )
    check_libraries(SUPPORTED, FAKE_TESTED, entries=(elsewhere,))


def test_the_tested_ranges_cover_every_library_of_the_list() -> None:
    assert {entry.library for entry in ENTRIES} == set(TESTED)
