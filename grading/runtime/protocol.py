"""Length-prefixed JSON frames: how the host, the fork server and the sandbox talk.

JSON only, never pickle: whatever comes back from a sandbox was written by a process that ran
trainee code, so the host parses it as untrusted data: the length is checked before the body is
buffered, the nesting depth before it is parsed (json.loads recurses, and a deep enough frame
would raise RecursionError in the grader), and the frame must be an object with a string `t`.
Each `ProtocolError` carries `what`, a short machine-readable name of the violation.
"""

from __future__ import annotations

import json
import re
import socket
import struct
from typing import Any

_HEADER = struct.Struct(">I")
MAX_DEPTH = 32  # nbformat outputs nest 4 levels; JSON mime data a few more
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class ProtocolError(Exception):
    """A peer sent something that is not a well-formed frame; `what` names the violation
    (oversized, malformed, too-deep, or what the caller passes)."""

    def __init__(self, detail: str, what: str = "malformed") -> None:
        super().__init__(detail)
        self.what = what


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
        raise ProtocolError(f"frame of {size} bytes exceeds the {max_size}-byte bound", "oversized")
    return _recv_exactly(sock, size)


def recv(sock: socket.socket, max_size: int = 1 << 26) -> dict[str, Any]:
    """Receive one JSON frame (blocking)."""
    return _decode(recv_raw(sock, max_size))


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays/objects in JSON text `body` nest deeper than `limit`.

    Strings are removed, then `limit` passes each delete the innermost bracket pairs: what is
    left nests deeper (or is not JSON). C-speed passes, so an 8 MB frame costs milliseconds."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    if re.search(rb"[\[{]{%d}" % (limit + 1), brackets):
        return True
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    # What is left nests deeper, or does not balance (not JSON: json.loads says malformed).
    openers = brackets.count(b"[") + brackets.count(b"{")
    return bool(brackets) and brackets[:1] in (b"[", b"{") and 2 * openers == len(brackets)


def _decode(body: bytes) -> dict[str, Any]:
    if too_deep(body):
        raise ProtocolError(f"frame nests deeper than {MAX_DEPTH} levels", "too-deep")
    try:
        message = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not JSON: {str(exc)[:200]}") from None
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
        return [message for message, _ in self.feed_sized(data)]

    def feed_sized(self, data: bytes) -> list[tuple[dict[str, Any], int]]:
        """Like `feed`, with each message's size in bytes (what the host counts and caps)."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > self._max_size:
                raise ProtocolError(
                    f"frame of {size} bytes exceeds the {self._max_size}-byte bound", "oversized"
                )
            if len(self._buffer) < _HEADER.size + size:
                break
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            messages.append((_decode(body), size))
        return messages


# -- what the host accepts from a sandbox ----------------------------------------------------
# Every field of every frame is type-checked here, before anything is kept: a value of the wrong
# type (a `text/plain` that is a list of ints, a count that is a string) would otherwise travel
# into nbgrader, the feedback page or the database and fail there, far from its cause.

_OUTPUT_KEYS = {
    "stream": {"output_type", "name", "text"},
    "display_data": {"output_type", "data", "metadata"},
    "execute_result": {"output_type", "data", "metadata", "execution_count"},
    "error": {"output_type", "ename", "evalue", "traceback"},
}


def _bad(detail: str, what: str = "bad-field") -> ProtocolError:
    return ProtocolError(detail, what)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(line, str) for line in value)


def _is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def check_output(output: Any) -> None:
    """Raise ProtocolError (what=bad-output) unless `output` is an nbformat v4 output dict whose
    every field has its schema's type (mime data: text, or a list of lines, or JSON for JSON
    mimetypes)."""
    if not isinstance(output, dict) or output.get("output_type") not in _OUTPUT_KEYS:
        raise _bad("an output is not an nbformat output", "bad-output")
    kind = output["output_type"]
    if set(output) != _OUTPUT_KEYS[kind]:
        raise _bad(f"a {kind} output has the fields {sorted(output)}", "bad-output")
    if kind == "stream":
        ok = output["name"] in ("stdout", "stderr") and isinstance(output["text"], str)
    elif kind == "error":
        ok = (
            isinstance(output["ename"], str)
            and isinstance(output["evalue"], str)
            and _is_strings(output["traceback"])
        )
    else:
        data = output["data"]
        ok = (
            isinstance(data, dict)
            and isinstance(output["metadata"], dict)
            and all(
                isinstance(mimetype, str)
                and (_is_json_mimetype(mimetype) or isinstance(value, str) or _is_strings(value))
                for mimetype, value in data.items()
            )
        )
        if kind == "execute_result":
            count = output["execution_count"]
            ok = ok and (count is None or _is_int(count))
    if not ok:
        raise _bad(f"a {kind} output has a field of the wrong type", "bad-output")


def _check_reply(reply: Any) -> None:
    if not isinstance(reply, dict) or not isinstance(reply.get("status"), str):
        raise _bad("an execute reply is not an object with a status")
    for key in ("ename", "evalue"):
        if key in reply and not isinstance(reply[key], str):
            raise _bad(f"an execute reply's {key} is not text")
    if "traceback" in reply and not _is_strings(reply["traceback"]):
        raise _bad("an execute reply's traceback is not a list of lines")


def check_sandbox_frame(message: dict[str, Any]) -> None:
    """Raise ProtocolError unless `message` is a frame a sandbox may send (start, progress,
    done, end, fatal) with every field of the right type. Unknown fields are ignored."""
    kind = message["t"]
    if kind not in ("start", "progress", "done", "end", "fatal"):
        raise _bad(f"unknown frame type {kind[:40]!r}", "unknown-frame")
    if kind in ("start", "progress", "done") and not _is_int(message.get("i")):
        raise _bad(f"a {kind} frame's cell index is not an integer")
    if kind == "fatal" and not isinstance(message.get("detail", ""), str):
        raise _bad("a fatal frame's detail is not text")
    if kind in ("progress", "done"):
        outputs = message.get("outputs")
        if not isinstance(outputs, list):
            raise _bad(f"a {kind} frame's outputs are not a list")
        for output in outputs:
            check_output(output)
    if kind == "done":
        count = message.get("count")
        if count is not None and not _is_int(count):
            raise _bad("a done frame's execution count is not an integer")
        issues = message.get("issues", {})
        if not isinstance(issues, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in issues.items()
        ):
            raise _bad("a done frame's issues are not text by kind")
        if "reply" in message:
            _check_reply(message["reply"])


def check_supervisor_frame(message: dict[str, Any]) -> None:
    """Raise ProtocolError unless `message` is a supervisor's spawned/exit frame, well typed."""
    kind = message["t"]
    if kind == "spawned":
        fields = ("pid", "supervisor")
    elif kind == "exit":
        fields = ("code", "signal", "oom_kills", "memory_peak", "pids_max_hits", "cpu_throttled")
    else:
        raise _bad(f"unknown supervisor frame {kind[:40]!r}", "unknown-frame")
    for name in fields:
        value = message.get(name)
        if value is not None and not _is_int(value):
            raise _bad(f"the supervisor's {name} is not an integer")
