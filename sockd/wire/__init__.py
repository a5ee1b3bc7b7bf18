"""The master-worker wire format, the one module pair both sides import.

Each worker has two socketpairs to the master: the hand-off channel
(:mod:`sockd.wire.handoff`: one client fd and its address per SEQPACKET message) and the
control channel (:mod:`sockd.wire.frames`: length-prefixed frames for reports, orders
and bus traffic), written by both ends through :mod:`sockd.wire.coalesced_writer`.
:mod:`sockd.wire.sid_tag` is the session-id format the master routes ``--sticky-key sid`` by.
"""
