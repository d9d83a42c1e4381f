"""Warm sessions: one sandbox kept alive per key (a trainee and an exercise) between runs.

"Run and see" re-runs a notebook from the top every time a trainee presses a button. A session
keeps the sandbox of the last run waiting for its next cell, so a run whose first cells are the
ones the session already ran (same sources, same order) only runs what comes after them; the
earlier cells' outputs are the ones they gave. Any other run starts a fresh sandbox. What a
trainee sees is therefore what a fresh run from the top would show.

The sandbox is the grading sandbox, unchanged: forked from the Runtime's fork server, with a
fresh uid, its own namespaces, tmpfs and limits; it asks for cells one at a time and is sent
each only when the previous one is reported, and the host keeps every clock and checks every
frame (the Runtime's own watcher does the work, resumed for each run). Between runs the sandbox
only waits, holding no slot. Sessions are bounded in number (the least recently used idle one
makes room) and end when idle for `idle_timeout` seconds, when older than `max_age`, when they
used processor time while idle (a thread left running), when their output allowance is spent,
or when anything went wrong in a run (the sandbox died, was killed, broke the protocol).
Sessions are never shared: a key has its own sandbox, and a session is only used for its key.
"""

from __future__ import annotations

import secrets
import select
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from grading.runtime import CellIssue, RunOutcome, RunRequest, SandboxUnavailable, protocol
from grading.runtime.pool import Runtime, _cpu_seconds, _validate, _Watch

# Cells a session may run in its life (the executor is told this many are coming; the host
# sends each only when it is wanted). Reaching it ends the session like any other limit.
SESSION_CELLS = 100_000
IDLE_CPU_SECONDS = 1.0  # processor time a waiting sandbox may use before it is ended
# Issues after which the session is not kept: its sandbox is gone or its allowances are spent.
_ENDING = {"died", "budget", "memory", "cpu-time", "processes", "sandbox", "forged"}
_RETIRING = {"output-limit", "file-size", "protocol-violation"}


@dataclass
class _Ran:
    """What one cell gave when the session ran it."""

    source: str
    test: bool
    explain: bool
    outputs: tuple[dict, ...]
    count: int | None
    verdict: dict | None
    issues: tuple[CellIssue, ...]  # indexed 0 (this cell)


class _SessionWatch(_Watch):
    """The Runtime's watcher, for the cells of one run of a session: cell frames carry the
    session's cell number (the executor counts every cell it was sent), and watching stops, with
    the sandbox alive, once the run's last cell is reported."""

    def __init__(self, request: RunRequest, session: Session) -> None:
        super().__init__(request, session.limits, session.ctl, session.data)
        self.session = session
        self.offset = len(session.ran)
        if session.readers is not None:
            # Frames may straddle two runs (a late progress report): keep parsing where it was.
            self.readers = session.readers
            self.pids = session.pids
            self.deadline = time.monotonic() + request.cell_timeout

    def _cells_announced(self) -> int:
        return SESSION_CELLS  # the sandbox waits for cells until the session ends

    def _send_request(self) -> None:
        if self.session.readers is not None:
            self._send_cell(0)  # the sandbox already has its request: the next cells only
            return
        super()._send_request()

    def _send_cell(self, index: int) -> None:
        self.sent = index
        if index >= len(self.request.cells) or self.offset + index >= SESSION_CELLS:
            return
        self.nonce = secrets.token_hex(16)
        frame = {
            "t": "cell",
            "i": self.offset + index,
            "source": self.request.cells[index],
            "test": index in self.request.tests,
            "explain": self.request.explain and index in self.request.tests,
            "k": self.nonce,
        }
        blocking = self.data.gettimeout()
        self.data.settimeout(30.0)
        try:
            protocol.send(self.data, frame)
        except OSError:
            pass  # the sandbox is gone; its exit report says why
        finally:
            self.data.settimeout(blocking)

    def _handle(self, sock: socket.socket, message: dict[str, Any], size: int) -> None:
        if sock is self.data and type(message.get("i")) is int:
            # The session's cell number back to this run's (an earlier run's: negative, so a
            # late progress report is dropped and any other report is out of order).
            message["i"] -= self.offset
        super()._handle(sock, message, size)

    def _paused(self) -> bool:
        if self.killed_for is not None or self.violated:
            return False
        if self.outcome.next_cell >= len(self.request.cells):
            self.ended = True  # every cell of the run is in: the sandbox waits for more
            return True
        return False


@dataclass(eq=False)
class Session:
    """One live sandbox and what it ran; used by one run at a time (its lock)."""

    key: str
    runtime: Runtime
    ctl: socket.socket
    data: socket.socket
    files: dict[str, bytes]
    env: dict[str, str]
    started: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    ran: list[_Ran] = field(default_factory=list)
    readers: dict | None = None
    pids: dict[str, Any] = field(default_factory=dict)
    idle_cpu: float = 0.0
    alive: bool = True
    vanished_unused: bool = False  # a spare that had died before its first run
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limits(self):
        """The runtime's limits (the sandbox was set up with them)."""
        return self.runtime.limits

    @property
    def sandbox_pid(self) -> int | None:
        """The host's pid of the sandbox's init process (None before it reported)."""
        pid = self.pids.get("pid")
        return pid if isinstance(pid, int) and pid > 1 else None

    def gone(self) -> bool:
        """Whether the sandbox ended while waiting (its supervisor reported or closed)."""
        if not self.alive:
            return True
        try:
            readable, _, _ = select.select([self.ctl], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def used_cpu_while_idle(self) -> bool:
        """Whether the waiting sandbox used processor time since its last run ended."""
        pid = self.sandbox_pid
        return pid is not None and _cpu_seconds(pid) - self.idle_cpu > IDLE_CPU_SECONDS

    def run(self, cells: RunRequest) -> RunOutcome:
        """Run `cells` (the part of a request after what was already run) in the sandbox."""
        watch = _SessionWatch(cells, self)
        with self.runtime.slot():
            outcome = watch.run()
        self.readers, self.pids = watch.readers, watch.pids
        self.vanished_unused = not self.ran and watch.vanished_unused
        kinds = {issue.kind for issue in outcome.issues}
        if watch.exit_report is not None or not watch.ended or kinds & (_ENDING | _RETIRING):
            self.close()
        for k, source in enumerate(cells.cells):
            if outcome.execution_counts[k] is None and source.strip():
                break  # did not run: a later run must not take it as run
            self.ran.append(
                _Ran(
                    source=source,
                    test=k in cells.tests,
                    explain=cells.explain and k in cells.tests,
                    outputs=outcome.outputs[k],
                    count=outcome.execution_counts[k],
                    verdict=outcome.verdicts[k] if k < len(outcome.verdicts) else None,
                    issues=tuple(replace(i, index=0) for i in outcome.issues if i.index == k),
                )
            )
        pid = self.sandbox_pid
        self.idle_cpu = _cpu_seconds(pid) if pid else 0.0
        self.last_used = time.monotonic()
        return outcome

    def close(self) -> None:
        """End the sandbox (its supervisor kills it when the control socket closes)."""
        self.alive = False
        try:
            self.ctl.sendall(protocol.encode({"t": "kill"}))
        except OSError:
            pass
        for sock in (self.ctl, self.data):
            sock.close()


class Sessions:
    """Warm sandboxes by key, at most `max_sessions`, each ended after `idle_timeout` seconds
    without a run (or `max_age` seconds in all); thread-safe. `run(key, request)` answers like
    `Runtime.run(request)`."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        max_sessions: int = 8,
        idle_timeout: float = 300.0,
        max_age: float = 3600.0,
        sweep_every: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # One sandbox set up ahead (cgroups, mounts) for the next session to start, as the
        # Runtime keeps one per slot: a trainee's edit that restarts their session waits less.
        self._spare: tuple[socket.socket, socket.socket] | None = None
        self._spare_lock = threading.Lock()
        self._closed = False
        every = sweep_every if sweep_every is not None else min(5.0, max(0.05, idle_timeout / 4))
        self._sweeper = threading.Thread(
            target=self._sweep_loop, args=(every,), name="run-sessions", daemon=True
        )
        self._sweeper.start()

    def run(self, key: str, request: RunRequest, _retry: bool = True) -> RunOutcome:
        """The outputs of `request`'s cells, as a fresh run would give them, from the key's
        session: cells it already ran in this order are not run again."""
        _validate(request, self.runtime.limits)
        session = self._session_for(key, request)
        if session is None:  # no room: every session is running
            return self.runtime.run(request)
        with session.lock:
            if not session.alive:  # ended (idle, too old) between finding it and now
                self._forget(session)
                return self.run(key, request, _retry)
            done = _common_prefix(session, request)
            if done < len(session.ran) and done < len(request.cells):
                session.close()  # a changed cell: the state after it is not this notebook's
                self._forget(session)
                return self.run(key, request)
            rest = RunRequest(
                cells=request.cells[done:],
                files=request.files,
                cell_timeout=request.cell_timeout,
                env=request.env,
                budget=request.budget,
                tests=frozenset(i - done for i in request.tests if i >= done),
                explain=request.explain,
            )
            fresh = session.run(rest) if rest.cells else None
            if not session.alive:
                self._forget(session)
            if session.vanished_unused and _retry:
                return self.run(key, request, _retry=False)  # its sandbox was gone: a new one
            return _combined(session.ran[:done], fresh, len(request.cells))

    def runner(self, key: str) -> SessionRunner:
        """What runs requests in the key's session, used like a Runtime (`.run(request)`)."""
        return SessionRunner(self, key)

    def live(self) -> dict[str, Session]:
        """The sessions alive now, by key (a copy)."""
        with self._lock:
            return {k: s for k, s in self._sessions.items() if s.alive}

    def end(self, key: str) -> None:
        """End the key's session, if any."""
        with self._lock:
            session = self._sessions.pop(key, None)
        if session is not None:
            with session.lock:
                session.close()

    def sweep(self) -> None:
        """End the sessions idle too long, too old, gone, or busy while idle."""
        now = time.monotonic()
        with self._lock:
            candidates = list(self._sessions.values())
        for session in candidates:
            if not session.lock.acquire(blocking=False):
                continue  # running: not idle
            try:
                if (
                    session.gone()
                    or now - session.last_used > self.idle_timeout
                    or now - session.started > self.max_age
                    or session.used_cpu_while_idle()
                ):
                    session.close()
                    self._forget(session)
            finally:
                session.lock.release()

    def close(self) -> None:
        """End every session, the spare sandbox and the sweeper."""
        self._stop.set()
        self._sweeper.join(10)
        with self._spare_lock:
            self._closed = True
            spare, self._spare = self._spare, None
        for sock in spare or ():
            sock.close()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            with session.lock:
                session.close()

    def _sweep_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.sweep()
            except Exception:  # the sweeper must outlive one bad session
                pass

    def _forget(self, session: Session) -> None:
        with self._lock:
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]

    def _session_for(self, key: str, request: RunRequest) -> Session | None:
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and (
                session.files != request.files or session.env != request.env
            ):
                stale, session = session, None  # another exercise's files: not this notebook
                del self._sessions[key]
                threading.Thread(target=_close_when_free, args=(stale,), daemon=True).start()
            if session is not None and not session.lock.locked() and session.gone():
                del self._sessions[key]
                session.close()
                session = None
            if session is not None:
                return session
            if len(self._sessions) >= self.max_sessions and not self._make_room():
                return None
            ctl, data = self._take_sandbox()
            session = Session(key, self.runtime, ctl, data, dict(request.files), dict(request.env))
            self._sessions[key] = session
            return session

    def _take_sandbox(self) -> tuple[socket.socket, socket.socket]:
        """The spare sandbox (another is prepared in the background), or a new one."""
        with self._spare_lock:
            pair, self._spare = self._spare, None
        threading.Thread(target=self._prepare_spare, name="run-session-spare", daemon=True).start()
        return pair if pair is not None else self.runtime._spawn(0)

    def _prepare_spare(self) -> None:
        try:
            pair = self.runtime._spawn(0)
        except (OSError, RuntimeError, SandboxUnavailable):
            return  # the next session spawns its own
        with self._spare_lock:
            if not self._closed and self._spare is None:
                self._spare, pair = pair, None
        for sock in pair or ():
            sock.close()

    def _make_room(self) -> bool:
        """End the least recently used idle session (the lock is held); False if all run."""
        for session in sorted(self._sessions.values(), key=lambda s: s.last_used):
            if session.lock.acquire(blocking=False):
                try:
                    session.close()
                finally:
                    session.lock.release()
                del self._sessions[session.key]
                return True
        return False


@dataclass(frozen=True)
class SessionRunner:
    """A Runtime's `run`, in one key's session."""

    sessions: Sessions
    key: str

    def run(self, request: RunRequest) -> RunOutcome:
        """Run `request` in the key's session (see Sessions.run)."""
        return self.sessions.run(self.key, request)


def _close_when_free(session: Session) -> None:
    with session.lock:
        session.close()


def _common_prefix(session: Session, request: RunRequest) -> int:
    """How many of the request's first cells the session already ran, unchanged and in order."""
    done = 0
    for k, ran in enumerate(session.ran[: len(request.cells)]):
        test = k in request.tests
        if (ran.source, ran.test, ran.explain) != (
            request.cells[k],
            test,
            request.explain and test,
        ):
            break
        done += 1
    return done


def _combined(earlier: list[_Ran], fresh: RunOutcome | None, count: int) -> RunOutcome:
    """The outcome of a whole request: the cells the session had run, then the fresh ones."""
    outputs = [ran.outputs for ran in earlier]
    counts = [ran.count for ran in earlier]
    verdicts = [ran.verdict for ran in earlier]
    issues = [replace(i, index=k) for k, ran in enumerate(earlier) for i in ran.issues]
    if fresh is not None:
        shift = len(earlier)
        outputs += fresh.outputs
        counts += fresh.execution_counts
        verdicts += list(fresh.verdicts) + [None] * (len(fresh.outputs) - len(fresh.verdicts))
        issues += [
            replace(i, index=None if i.index is None else i.index + shift) for i in fresh.issues
        ]
    return RunOutcome(
        outputs=tuple(outputs[:count]),
        execution_counts=tuple(counts[:count]),
        issues=tuple(issues),
        verdicts=tuple(verdicts[:count]),
    )
