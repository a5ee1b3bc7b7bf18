"""Keeping the slots' workers alive and changing them: the arbiter, worker processes,
rolling reloads, recycling, ``sockd dev``'s watcher and ``sockd status``."""
