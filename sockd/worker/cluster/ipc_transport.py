"""Cluster requests over the master (the IPC bus): one host's workers.

A request goes to the master, which relays it to every other serving worker (or the one
named) and answers ``CLUSTER_SENT`` with who it went to; answers come back relayed with
the answerer's slot and pid; ``CLUSTER_GONE`` names a worker that exited
(sockd/supervisor/lifecycle/cluster_relay.py). A member's id is its pid.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from sockd.wire.cluster_frames import routed, split_routed
from sockd.wire.frames import FrameError, Kind
from sockd.worker.cluster.answerer import Answerer
from sockd.worker.cluster.members import Member
from sockd.worker.cluster.pending import Chunk, Pending
from sockd.worker.cluster.query import Query
from sockd.worker.hosting.master_link import MasterLink

if TYPE_CHECKING:
    from sockd.worker.cluster.requester import Cluster

log = logging.getLogger("sockd.cluster")

GONE = "exited while the request was out"


class IpcTransport:
    def __init__(self, link: MasterLink, slot: int) -> None:
        self._link = link
        self.me = Member(str(os.getpid()), os.getpid(), slot)
        self._cluster: Cluster | None = None

    def bind(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._link.on_cluster = self._on_frame

    async def started(self) -> None:
        pass  # the master relays to this worker once it reports ready

    def answer_master(self, cluster: Cluster) -> None:
        """With another transport (Redis), still answer the master's own requests (the
        census of ``sockd status``) over the link."""
        answerer = Answerer(cluster.sio, cluster.ops, self.answer)

        def on_frame(kind: Kind, payload: bytes) -> None:
            if kind is Kind.CLUSTER_REQUEST:
                try:
                    routing, body = split_routed(payload)
                    answerer.handle(body, _member(routing).id)
                except (FrameError, ValueError, KeyError, TypeError) as exc:
                    log.error("a malformed request from the master: %s", exc)

        self._link.on_cluster = on_frame

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        pending.unknown_reason = "the master did not say which workers it asked"
        to = int(query.to) if query.to is not None else None
        self._link.send(Kind.CLUSTER_REQUEST, routed({"id": request_id, "to": to}, body))

    def answer(self, member_id: str, body: str) -> None:
        self._link.send(Kind.CLUSTER_ANSWER, routed({"to": int(member_id)}, body.encode()))

    async def close(self) -> None:
        self._link.on_cluster = None

    def _on_frame(self, kind: Kind, payload: bytes) -> None:
        cluster = self._cluster
        if cluster is None:
            return
        try:
            if kind is Kind.CLUSTER_SENT:
                self._sent(cluster, json.loads(payload))
            elif kind is Kind.CLUSTER_GONE:
                gone = json.loads(payload)
                cluster.pending.gone(str(gone["pid"]), GONE)
            else:
                routing, body = split_routed(payload)
                member = _member(routing)
                if kind is Kind.CLUSTER_ANSWER:
                    self._answered(cluster, member, body)
                elif kind is Kind.CLUSTER_REQUEST:
                    cluster.answerer.handle(body, member.id)
        except (FrameError, ValueError, KeyError, TypeError) as exc:
            log.error("a malformed cluster frame from the master (%s): %s", kind.name, exc)

    def _sent(self, cluster: Cluster, sent: dict[str, Any]) -> None:
        pending = cluster.pending.get(str(sent["id"]))
        if pending is not None:
            pending.expect([Member(str(pid), int(pid), slot) for slot, pid in sent["members"]])

    def _answered(self, cluster: Cluster, member: Member, body: bytes) -> None:
        answer = json.loads(body)
        pending = cluster.pending.get(str(answer["id"]))
        if pending is not None:
            pending.answer(member, Chunk.from_json(answer))


def _member(routing: dict[str, Any]) -> Member:
    pid = int(routing["from"])
    slot = routing.get("slot")
    return Member(str(pid), pid, int(slot) if slot is not None else None)
