"""What systemd hears, and when: pings only while healthy, STATUS= once booted and
changed, READY with MAINPID for a master that took over."""

from __future__ import annotations

from sockd.supervisor.lifecycle.systemd_reporter import STATUS_INTERVAL, SystemdReporter


class FakeNotify:
    def __init__(self, enabled: bool = True, watchdog_interval: float | None = 0.5) -> None:
        self.enabled = enabled
        self.watchdog_interval = watchdog_interval
        self.sent: list[str] = []

    def ready(self, status: str, main_pid: int | None = None) -> None:
        self.sent.append(f"READY {status} {main_pid}")

    def reloading(self) -> None:
        self.sent.append("RELOADING")

    def stopping(self) -> None:
        self.sent.append("STOPPING")

    def status(self, status: str) -> None:
        self.sent.append(f"STATUS {status}")

    def watchdog(self) -> None:
        self.sent.append("WATCHDOG")


def make(notify: FakeNotify, healthy: list[bool], booted: list[bool], line: list[str]):  # type: ignore[no-untyped-def]
    return SystemdReporter(notify, lambda: line[0], lambda now: healthy[0], lambda: booted[0])


def test_watchdog_pings_at_its_interval_only_while_healthy() -> None:
    notify, healthy = FakeNotify(), [True]
    reporter = make(notify, healthy, [False], ["x"])
    reporter.tick(0.0)
    reporter.tick(0.3)
    reporter.tick(0.5)
    assert notify.sent == ["WATCHDOG", "WATCHDOG"]
    healthy[0] = False
    reporter.tick(1.5)
    assert notify.sent == ["WATCHDOG", "WATCHDOG"]


def test_status_line_once_booted_and_only_when_it_changed() -> None:
    notify, booted, line = FakeNotify(watchdog_interval=None), [False], ["1/2 workers ready"]
    reporter = make(notify, [True], booted, line)
    reporter.tick(0.0)
    assert notify.sent == []
    booted[0] = True
    reporter.tick(1.0)
    reporter.tick(1.0 + STATUS_INTERVAL)
    assert notify.sent == ["STATUS 1/2 workers ready"]
    line[0] = "2/2 workers ready"
    reporter.tick(1.0 + 2 * STATUS_INTERVAL)
    assert notify.sent[-1] == "STATUS 2/2 workers ready"


def test_ready_names_a_new_main_pid_and_a_reload_ends_in_ready() -> None:
    notify = FakeNotify()
    reporter = make(notify, [True], [True], ["2/2"])
    reporter.ready(4242)
    reporter.reloading()
    reporter.reloaded()
    reporter.stopping()
    assert notify.sent == ["READY 2/2 4242", "RELOADING", "READY 2/2 None", "STOPPING"]


def test_nothing_is_sent_outside_systemd() -> None:
    notify = FakeNotify(enabled=False)
    make(notify, [True], [True], ["x"]).tick(10.0)
    assert notify.sent == []
