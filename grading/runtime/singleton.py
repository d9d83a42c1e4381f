"""The process-wide Runtime, started on first use and stopped at exit."""

from __future__ import annotations

import atexit
import threading
from typing import Any

from grading.runtime.isolation import SandboxUnavailable
from grading.runtime.pool import Runtime

_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The shared Runtime (one fork server per process), started lazily."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime()
            atexit.register(close_runtime)
        return _runtime


def close_runtime() -> None:
    """Stop the shared Runtime (a later get_runtime() starts a new one)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.close()
            _runtime = None


def isolation_report() -> dict[str, Any]:
    """What isolation grading runs under here (for `lms doctor`); starts the runtime if needed."""
    try:
        return get_runtime().isolation
    except SandboxUnavailable as exc:
        return {"sandboxed": False, "available": False, "reason": str(exc)}
