"""Raw HTTP over a socket, for requests no client library would send (oversized, malformed)."""

from __future__ import annotations

import socket


def exchange(address: tuple[str, int], request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read the answer until the server closes: (status, headers, body)."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def allowed(header: str) -> set[str]:
    """The methods of an ``Allow`` header."""
    return {method.strip() for method in header.split(",")}
