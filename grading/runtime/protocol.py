"""Length-prefixed JSON frames: how the host, the fork server and the sandbox talk.

JSON only, never pickle: whatever comes back from a sandbox was written by a process that ran
trainee code, so the host parses it as untrusted data with a size bound.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A peer sent something that is not a well-formed frame."""


def encode(message: dict[str, Any]) -> bytes:
    """One frame: a 4-byte big-endian length, then compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one frame (blocking)."""
    sock.sendall(encode(message))


def send_raw(sock: socket.socket, payload: bytes) -> None:
    """Send one frame of raw bytes (file contents)."""
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv_raw(sock: socket.socket, max_size: int) -> bytes:
    """Receive one frame's bytes (blocking); EOFError when the peer has closed."""
    (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    if size > max_size:
        raise ProtocolError(f"frame of {size} bytes exceeds the {max_size}-byte bound")
    return _recv_exactly(sock, size)


def recv(sock: socket.socket, max_size: int = 1 << 26) -> dict[str, Any]:
    """Receive one JSON frame (blocking)."""
    return _decode(recv_raw(sock, max_size))


def _decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("frame is not a JSON object with a 't' field")
    return message


class FrameReader:
    """Incremental frame parser for a non-blocking socket read from a selector loop."""

    def __init__(self, max_size: int) -> None:
        self._buffer = bytearray()
        self._max_size = max_size

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add received bytes and return the complete messages they finish."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > self._max_size:
                raise ProtocolError(
                    f"frame of {size} bytes exceeds the {self._max_size}-byte bound"
                )
            if len(self._buffer) < _HEADER.size + size:
                break
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            messages.append(_decode(body))
        return messages
