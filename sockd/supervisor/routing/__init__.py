"""From an accepted connection to a worker: accept, find the sticky key, pick the slot, hand
the fd over (or queue it while the slot's worker is not ready)."""
