"""TCP_NODELAY on every DIMSE socket of this process.

A C-STORE goes out as a command PDU and then data PDUs. With Nagle's algorithm on, the
small command waits for the peer's delayed acknowledgement, about 40 ms per instance:
pynetdicom with its default sockets moved 18 instances a second on loopback, 66 with the
option set (benchmarks/gateway_speed.py). DCMTK and most PACS set it; pynetdicom offers no
setting, so its socket factory and its server's accept are wrapped, once."""

from __future__ import annotations

import socket

_done = False


def enable_tcp_nodelay() -> None:
    global _done
    if _done:
        return
    from pynetdicom import transport

    create, accept = transport.AssociationSocket._create_socket, transport.AssociationServer.get_request

    def create_socket(self, address):
        sock = create(self, address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def get_request(self):
        sock, address = accept(self)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address

    transport.AssociationSocket._create_socket = create_socket  # type: ignore[method-assign]
    transport.AssociationServer.get_request = get_request  # type: ignore[method-assign]
    _done = True
