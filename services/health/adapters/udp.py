"""The UDP heartbeat receiver: an asyncio datagram endpoint feeding the intake."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Larger datagrams are not heartbeats; do not even try to parse them.
MAX_DATAGRAM = 65_507


class _HeartbeatProtocol(asyncio.DatagramProtocol):
    def __init__(self, receive: Callable[[bytes, str], Any]):
        self._receive = receive

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        source = f"{addr[0]}:{addr[1]}" if addr else "?"
        try:
            self._receive(data[:MAX_DATAGRAM], source)
        except Exception:
            # One bad datagram must never stop the receiver.
            log.exception("heartbeat from %s: unexpected error", source)

    def error_received(self, exc: Exception) -> None:
        log.warning("heartbeat socket error: %s", exc)


async def start_receiver(
    host: str, port: int, receive: Callable[[bytes, str], Any]
) -> tuple[asyncio.DatagramTransport, int]:
    """Binds host:port (port 0 picks one) and returns the transport and the bound port."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _HeartbeatProtocol(receive), local_addr=(host, port)
    )
    bound_port = transport.get_extra_info("sockname")[1]
    return transport, bound_port
