"""What a reload can change: everything but the settings a running master is built on."""

from __future__ import annotations

import dataclasses

from sockd.config.options import BindAddress, ClusterOptions, WorkerOptions
from sockd.supervisor.lifecycle.reload import merge_reloaded


def test_reload_keeps_fixed_settings_and_names_the_changed_ones() -> None:
    current = ClusterOptions(
        worker=WorkerOptions(app="a:sio", log_file="/var/log/a.log"),
        workers=2,
        binds=(BindAddress("127.0.0.1", 7001),),
        title="a",
    )
    reloaded = dataclasses.replace(
        current,
        worker=dataclasses.replace(
            current.worker, log_file="/tmp/b.log", access_log=True, graceful_timeout=5
        ),
        workers=4,
        binds=(BindAddress("127.0.0.1", 7002),),
        heartbeat_timeout=9,
    )
    merged, ignored = merge_reloaded(current, reloaded)
    assert sorted(ignored) == ["binds", "log_file"]
    assert merged.binds == current.binds
    assert merged.worker.log_file == "/var/log/a.log"
    assert (merged.workers, merged.heartbeat_timeout) == (4, 9)
    assert merged.worker.access_log and merged.worker.graceful_timeout == 5
