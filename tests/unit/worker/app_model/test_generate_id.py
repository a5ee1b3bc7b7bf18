"""Which requests get a generated id: handshakes, told apart by a parameter named ``sid``."""

from __future__ import annotations

import pytest

from sockd.worker.app_model.generate_id import names_a_session


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"EIO=4&transport=polling&t=abc", False),
        (b"EIO=4&transport=polling&usersid=1", False),
        (b"EIO=4&transport=websocket&mysid=x&sidx=y", False),
        (b"EIO=4&transport=polling&sid=Zx12", True),
        (b"usersid=1&EIO=4&transport=websocket&sid=Zx12", True),
        (b"EIO=4&transport=polling&sid=", False),  # python-engineio: a handshake
        (b"", False),
    ],
)
def test_only_a_parameter_named_sid_marks_a_session_request(query: bytes, expected: bool) -> None:
    assert names_a_session(query) is expected
