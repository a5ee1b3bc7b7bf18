"""Read each WebSocket message in the session's own task, not in a new one per message.

python-engineio's WebSocket handler reads every message as
``await asyncio.wait_for(asyncio.ensure_future(ws.wait()), ping_interval + ping_timeout)``:
on Python 3.11 a task, a timer and a waiter per received message, about a sixth of a
worker's CPU under echo (69 -> 56 us of worker CPU per acked echo without them, bench
echo scenario). Here the handler awaits
``ws.wait()`` directly. The per-read bound is the session's pong deadline
(:mod:`sockd.worker.protocol.heartbeat`): a client silent for ping interval + ping timeout
misses its pong, the deadline ends the session, and the writer's close wakes this read.

The method is python-engineio 4.15's ``AsyncSocket._websocket_handler`` (MIT licence,
pinned in pyproject.toml) with only the reading loop changed. The session adopts this
class behind the protocol fixes, which wrap the handler as they wrapped the library's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket


class DirectRead(AsyncSocket):
    async def _websocket_handler(self, ws: Any) -> None:
        """Engine.IO over one WebSocket: the upgrade if any, a writer task, the reading loop."""

        async def websocket_wait() -> Any:
            data = await ws.wait()
            if data and len(data) > self.server.max_http_buffer_size:
                raise ValueError("packet is too large")
            return data

        if self.connected:
            # the socket was already connected, so this is an upgrade
            self.upgrading = True  # hold packet sends during the upgrade
            try:
                pkt = await websocket_wait()
            except OSError:
                return
            decoded_pkt = packet.Packet(encoded_packet=pkt)
            if decoded_pkt.packet_type != packet.PING or decoded_pkt.data != "probe":
                self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
                self.upgrading = False
                return
            await ws.send(packet.Packet(packet.PONG, data="probe").encode())
            await self.queue.put(packet.Packet(packet.NOOP))  # end poll
            try:
                pkt = await websocket_wait()
            except OSError:
                self.upgrading = False
                return
            decoded_pkt = packet.Packet(encoded_packet=pkt)
            if decoded_pkt.packet_type != packet.UPGRADE:
                self.upgraded = False
                self.server.logger.info(
                    "%s: Failed websocket upgrade, expected UPGRADE packet, received %s instead.",
                    self.sid,
                    pkt,
                )
                self.upgrading = False
                return
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True

        async def writer() -> None:
            while True:
                try:
                    packets = await self.poll()
                except exceptions.QueueEmpty:
                    break
                if not packets:
                    break  # empty packet list returned -> connection closed
                try:
                    for pkt in packets:
                        await ws.send(pkt.encode())
                except Exception:
                    break
            await ws.close()

        writer_task = asyncio.ensure_future(writer())
        self.server.logger.info("%s: Upgrade to websocket successful", self.sid)

        while True:
            try:
                message = await websocket_wait()
            except (asyncio.CancelledError, Exception):
                break  # as the library does (a too large message too): clean up below
            if message is None:
                break  # connection closed by client
            pkt = packet.Packet(encoded_packet=message)
            try:
                await self.receive(pkt)
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                self.server.logger.info("Receive error -- socket is closed")
                break
            except Exception:
                # an unexpected error is logged and the connection closed properly
                self.server.logger.exception("Unknown receive error")

        await self.queue.put(None)  # unlock the writer task so it can exit
        await writer_task
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
