"""The serving socket: TCP_NODELAY on every accepted connection (no Nagle/delayed-ACK stall)."""

import socket

from qnetai.kms.server import _set_nodelay, bound_socket


def test_bound_socket_is_tcp_so_asyncio_sets_nodelay_on_accepted_connections():
    sock = bound_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        sock.listen(1)
        client = socket.create_connection(sock.getsockname(), timeout=5)
        conn, _ = sock.accept()
        with client, conn:
            assert conn.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay checks
    finally:
        sock.close()


class _Transport:
    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


def test_set_nodelay_on_a_connection_made_elsewhere():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0: asyncio skips it
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    conn, _ = listener.accept()
    with listener, client, conn:
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        _set_nodelay(_Transport(conn))
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    _set_nodelay(_Transport(None))  # no socket (e.g. a test transport): nothing to do
