"""What a CONNECT claims: a pid that looks like one, an offset that is a short string."""

from __future__ import annotations

from typing import Any

import pytest

from sockd.worker.recovery.attempts import Claim, new_pid, split_claim

PID = new_pid()


@pytest.mark.parametrize(
    ("auth", "claim", "rest"),
    [
        ({"pid": PID, "offset": "1-2", "token": 1}, Claim(PID, "1-2"), {"token": 1}),
        ({"pid": PID}, Claim(PID, None), {}),  # nothing received yet (socket.io#5538)
        ({"token": 1}, None, {"token": 1}),
        (None, None, None),
        ("text", None, "text"),
        ({"pid": 42, "offset": "1"}, None, {}),
        ({"pid": PID, "offset": 7}, None, {}),
        ({"pid": PID, "offset": ""}, None, {}),
        ({"pid": PID, "offset": "x" * 65}, None, {}),
        ({"pid": "x" * 65}, None, {}),
        ({"pid": "../../etc"}, None, {}),
        ({"offset": "1-1"}, None, {}),
    ],
)
def test_claims(auth: Any, claim: Claim | None, rest: Any) -> None:
    assert split_claim(auth) == (claim, rest)


def test_private_ids_are_random_and_long() -> None:
    pids = {new_pid() for _ in range(100)}
    assert len(pids) == 100 and all(len(pid) == 22 for pid in pids)
