"""The master's plumbing with the operating system: listeners, daemonizing, pid files and
systemd's notify protocol."""
