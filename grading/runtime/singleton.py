"""The process-wide Runtime, started on first use and stopped at exit."""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from grading.runtime.isolation import SandboxUnavailable
from grading.runtime.pool import Runtime
from grading.runtime.session import Sessions

_lock = threading.Lock()
_runtime: Runtime | None = None
_sessions: Sessions | None = None
_owner_pid = 0
_atexit_registered = False


def get_runtime() -> Runtime:
    """The shared Runtime (one fork server per process), started lazily."""
    global _runtime, _owner_pid, _atexit_registered
    with _lock:
        if _runtime is not None and _owner_pid != os.getpid():
            # A forked worker (e.g. a prefork pool) must not share its parent's sockets.
            _runtime = None
        if _runtime is None:
            _runtime = Runtime()
            _owner_pid = os.getpid()
            if not _atexit_registered:
                atexit.register(close_runtime)
                _atexit_registered = True
        return _runtime


def get_sessions(max_sessions: int, idle_timeout: float) -> Sessions:
    """The shared warm sessions over the shared Runtime, with these bounds (a later call with
    other bounds applies them from then on)."""
    global _sessions
    runtime = get_runtime()
    with _lock:
        if _sessions is None or _sessions.runtime is not runtime:
            _sessions = Sessions(runtime, max_sessions=max_sessions, idle_timeout=idle_timeout)
        _sessions.max_sessions, _sessions.idle_timeout = max_sessions, idle_timeout
        return _sessions


def close_runtime() -> None:
    """Stop the shared Runtime and its sessions (a later get_runtime() starts a new one)."""
    global _runtime, _sessions
    with _lock:
        if _owner_pid == os.getpid():
            if _sessions is not None:
                _sessions.close()
            if _runtime is not None:
                _runtime.close()
        _runtime = _sessions = None


def isolation_report() -> dict[str, Any]:
    """What isolation grading runs under here (for `lms doctor`); starts the runtime if needed."""
    try:
        return get_runtime().isolation
    except SandboxUnavailable as exc:
        return {"sandboxed": False, "available": False, "reason": str(exc)}
