"""The host side: a fork server kept warm, and `Runtime.run` driving one sandbox per request.

Each `run` takes a slot (at most `slots` sandboxes at once; each slot has its own sandbox uid),
asks the fork server for a fresh sandbox, streams the request to it, and watches it: a cell past
its timeout is interrupted (KeyboardInterrupt, like nbclient's interrupt_on_timeout) and, if it
does not stop within the grace period, the sandbox is killed. Whatever happens, the outcome has
one output list per cell and says why something went wrong.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import secrets
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grading.runtime import RunOutcome, RunRequest, protocol
from grading.runtime.isolation import SandboxUnavailable, check, describe
from grading.runtime.limits import Limits, default_budget, usable_cpus
from grading.runtime.outcome import OutcomeBuilder
from grading.runtime.preload import DEFAULT_PRELOAD

_START_STALL = 120.0  # seconds without any processor time used: the fork server is stuck
_SETUP_TIMEOUT = 30.0  # from spawn to the first cell: fork, mounts, the request's files
# Between two cells only the executor's own code runs; this allowance is added to the next
# cell's clock once (never re-armed by a frame), so a slow host does not eat into the cell's time.
_BETWEEN_CELLS = 5.0
_EXIT_TIMEOUT = 10.0
UID_RANGE = 4096
_instances = itertools.count()


class _ForkServer:
    """The zygote process and its control socket."""

    def __init__(self, preload: tuple[str, ...]) -> None:
        host_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_root = str(Path(__file__).resolve().parents[2])
        # `grading` is registered as a bare package so that the grading pipeline's __init__
        # (nbgrader and friends) is not imported into the fork server: only the runtime is.
        bootstrap = (
            "import sys, types; pkg = types.ModuleType('grading'); "
            "pkg.__path__ = [sys.argv[1] + '/grading']; sys.modules['grading'] = pkg; "
            "from grading.runtime.zygote import main; main(int(sys.argv[2]), sys.argv[3:])"
        )
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-c",
                bootstrap,
                package_root,
                str(server_end.fileno()),
                *preload,
            ],
            env=env,
            pass_fds=(server_end.fileno(),),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        server_end.close()
        self.sock = host_end
        self.lock = threading.Lock()
        hello = self._wait_for_hello()
        if hello.get("t") != "hello" or not isinstance(hello.get("isolation"), dict):
            self.close()
            raise SandboxUnavailable("the grading fork server did not start (see its stderr)")
        self.probe: dict[str, Any] = hello["isolation"]

    def _wait_for_hello(self) -> dict[str, Any]:
        """The server's hello, however long a busy machine makes it take: give up only when
        the server has exited, or has used no processor time at all for _START_STALL seconds
        (stuck, not slow). A fixed deadline would turn an oversubscribed host into a failure."""
        used, last_progress = _cpu_seconds(self.process.pid), time.monotonic()
        while True:
            ready, _, _ = select.select([self.sock], [], [], 1.0)
            if ready:
                try:
                    hello = json.loads(self.sock.recv(1 << 16) or b"{}")
                except (OSError, ValueError):
                    return {}
                return hello if isinstance(hello, dict) else {}
            if self.process.poll() is not None:
                return {}
            now_used = _cpu_seconds(self.process.pid)
            if now_used > used:
                used, last_progress = now_used, time.monotonic()
            elif time.monotonic() - last_progress > _START_STALL:
                return {}

    def spawn(self, spec: dict[str, Any], fds: list[int]) -> None:
        """Ask for one sandbox, handing it the two sockets it will talk on."""
        with self.lock:
            socket.send_fds(self.sock, [json.dumps(spec).encode()], fds)

    def alive(self) -> bool:
        """Whether the zygote process still runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """Stop the zygote (closing its socket makes it exit; sandboxes die with their
        supervisors)."""
        self.sock.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cpu_seconds(pid: int) -> float:
    """Processor time used by `pid`, its reaped children and its live ones (the fork server's
    probes run in children, during which the server itself only waits)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            children = [int(child) for child in handle.read().split()]
    except (OSError, IndexError, ValueError):
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the name.
    own = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(child) for child in children)


class Runtime:
    """Runs notebook cells in fresh sandboxes forked from a warm server; thread-safe."""

    def __init__(
        self,
        slots: int | None = None,
        limits: Limits | None = None,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
        standby: bool = True,
    ) -> None:
        self.limits = limits or Limits()
        self.standby = standby
        self.slots = slots or usable_cpus()
        self._preload = preload
        instance = next(_instances)
        # A fresh uid per job, rotating through a block of UID_RANGE: RLIMIT_NPROC then counts
        # one sandbox, no two sandboxes alive at once (at most two per slot: the running one and
        # its standby) could signal or read each other, and nothing a job left with its uid in
        # the kernel (a keyring, a message queue) is there for the next trainee on the slot.
        self.uid_base = 1_000_000 + ((os.getpid() * 8 + instance) % 50_000) * UID_RANGE
        self._uids = itertools.count()
        self._free_slots: list[int] = list(range(self.slots))
        self._slot_ready = threading.Condition()
        self._waiting: collections.deque[int] = collections.deque()
        self._tickets = itertools.count()
        self._server_lock = threading.Lock()
        self._jobs = itertools.count()
        self._closed = False
        self._standby: dict[int, tuple[socket.socket, socket.socket]] = {}
        self._server = _ForkServer(preload)
        self.isolation = describe(self._server.probe, self.limits.to_json())
        self.isolation["sandbox_uids"] = [self.uid_base, self.uid_base + UID_RANGE - 1]
        self.isolation["uid_per_job"] = True
        try:
            check(self.isolation)
        except SandboxUnavailable:
            self._server.close()
            raise
        for slot in range(self.slots):
            self._prepare_standby(slot)

    @property
    def sandbox_uids(self) -> range:
        """The uids sandboxes of this runtime run as."""
        return range(self.uid_base, self.uid_base + UID_RANGE)

    def run(self, request: RunRequest) -> RunOutcome:
        """Run the request's cells in one fresh sandbox and return every cell's outputs."""
        _validate(request, self.limits)
        with self.slot() as slot:
            return self._run_in_slot(request, slot)

    def close(self) -> None:
        """Stop the fork server; runs already started finish or fail cleanly."""
        with self._server_lock:
            if self._closed:
                return
            self._closed = True
            standby, self._standby = self._standby, {}
        for pair in standby.values():
            for sock in pair:
                sock.close()
        self._server.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def slot(self) -> Iterator[int]:
        """Hold one of the runtime's slots (a processor's worth of sandbox work) meanwhile."""
        slot = self._take_slot()
        try:
            yield slot
        finally:
            with self._slot_ready:
                self._free_slots.append(slot)
                self._slot_ready.notify_all()

    def _take_slot(self) -> int:
        # First come, first served: a condition variable alone wakes an arbitrary waiter and
        # lets a newcomer take a slot ahead of threads already waiting, so one caller's stream
        # of runs could keep another waiting for ever. Tickets keep the order of arrival.
        with self._slot_ready:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            while not (self._free_slots and self._waiting[0] == ticket):
                self._slot_ready.wait()
            self._waiting.popleft()
            self._slot_ready.notify_all()  # the next in line may find a slot too
            return self._free_slots.pop(0)

    def _server_for_spawn(self) -> _ForkServer:
        with self._server_lock:
            if self._closed:
                raise RuntimeError("this Runtime is closed")
            if not self._server.alive():
                self._server.close()
                self._server = _ForkServer(self._preload)
            return self._server

    def _spawn(self, slot: int) -> tuple[socket.socket, socket.socket]:
        """Ask the fork server for a sandbox for `slot`; returns the host's (ctl, data) ends."""
        host_ctl, sandbox_ctl = socket.socketpair()
        host_data, sandbox_data = socket.socketpair()
        spec = {
            "job": f"{os.getpid()}-{next(self._jobs)}",
            "uid": self.uid_base + next(self._uids) % UID_RANGE,
            "limits": self.limits.to_json(),
        }
        fds = [sandbox_ctl.fileno(), sandbox_data.fileno()]
        try:
            try:
                self._server_for_spawn().spawn(spec, fds)
            except OSError:
                # The zygote died between the liveness check and the send: start it again once.
                self._server.process.kill()
                self._server.process.wait()
                self._server_for_spawn().spawn(spec, fds)
        except BaseException:
            host_ctl.close()
            host_data.close()
            raise
        finally:
            sandbox_ctl.close()
            sandbox_data.close()
        return host_ctl, host_data

    def _prepare_standby(self, slot: int) -> None:
        """Have the next sandbox of `slot` set up (cgroups, mounts) before it is needed."""
        if not self.standby:
            return
        try:
            pair = self._spawn(slot)
        except (OSError, RuntimeError, SandboxUnavailable):
            return  # the next run spawns its own
        with self._server_lock:
            stale = self._standby.pop(slot, None)
            if self._closed:
                stale, pair = pair, None
            else:
                self._standby[slot] = pair
        for sock in stale or ():
            sock.close()

    def _run_in_slot(self, request: RunRequest, slot: int) -> RunOutcome:
        with self._server_lock:
            pair = self._standby.pop(slot, None)
        try:
            if pair is not None:
                watch = _Watch(request, self.limits, *pair)
                outcome = watch.run()
                lost_with_server = watch.exit_report is None and not self._server.alive()
                if not (watch.vanished_unused or lost_with_server):
                    return outcome
                # The standby died before taking the request, or with the fork server it came
                # from (its supervisor then never reports): run it in a fresh sandbox instead.
                for sock in pair:
                    sock.close()
            pair = self._spawn(slot)
            return _Watch(request, self.limits, *pair).run()
        finally:
            for sock in pair or ():
                sock.close()
            self._prepare_standby(slot)


def _validate(request: RunRequest, limits: Limits) -> None:
    if not all(isinstance(cell, str) for cell in request.cells):
        raise TypeError("RunRequest.cells must be strings (code cell sources)")
    if not all(isinstance(i, int) and 0 <= i < len(request.cells) for i in request.tests):
        raise ValueError("RunRequest.tests must be indices into RunRequest.cells")
    for name, content in request.files.items():
        parts = Path(name).parts
        if not name or Path(name).is_absolute() or ".." in parts or "\0" in name:
            raise ValueError(f"file name {name!r} must be a relative path inside the job folder")
        if not isinstance(content, bytes | bytearray):
            raise TypeError(f"file {name!r} must be bytes")
    total = sum(len(content) for content in request.files.values())
    if total > limits.workdir_bytes // 2:
        raise ValueError(
            f"the job's files take {total} bytes; the sandbox's working directory holds "
            f"{limits.workdir_bytes} and needs room for the trainee's own files: raise "
            "Limits.workdir_bytes or ship smaller data"
        )
    if request.cell_timeout <= 0:
        raise ValueError("cell_timeout must be positive (seconds)")
    if request.budget is not None and request.budget <= 0:
        raise ValueError("budget must be positive (seconds) or None for the default")


class _Watch:
    """Drives one sandbox: sends the request, enforces the deadlines, collects the outcome.

    The host keeps every clock itself and trusts no frame: a cell's deadline is armed when the
    previous cell's report arrives (plus a short allowance for the executor's own step between
    cells) and a `start` frame can only bring it closer, never push it back; the notebook's
    budget runs from the first frame and nothing moves it. Bytes kept are counted per cell and
    per run; any frame that is oversized, malformed, nested too deep, mistyped or out of order
    ends the run as a protocol violation.
    """

    def __init__(
        self, request: RunRequest, limits: Limits, ctl: socket.socket, data: socket.socket
    ) -> None:
        self.request = request
        self.limits = limits
        self.ctl = ctl
        self.data = data
        self.outcome = OutcomeBuilder(request.cells, request.cell_timeout)
        # JSON escaping can grow kept text several times over (control characters: 6x).
        self.max_frame = 8 * limits.output.keep_cell_bytes + (1 << 20)
        self.max_run_bytes = (
            8 * limits.output.keep_run_bytes + (1 << 20) + (64 << 10) * len(request.cells)
        )
        self.kept_bytes = 0
        self.readers = {
            ctl: protocol.FrameReader(1 << 16),
            data: protocol.FrameReader(self.max_frame),
        }
        self.exit_report: dict[str, Any] | None = None
        self.heard_from_sandbox = False
        self.ended = False
        self.violated = False
        self.killed_for: str | None = None
        self.budget = (
            request.budget if request.budget is not None else default_budget(request.cell_timeout)
        )
        self.budget_end: float | None = None
        self.deadline = time.monotonic() + _SETUP_TIMEOUT + request.cell_timeout
        self.kill_at: float | None = None
        self.give_up_at: float | None = None
        self.pids: dict[str, Any] = {}
        self.sent = -1  # the cell sent last
        self.nonce: str | None = None

    def run(self) -> RunOutcome:
        self._send_request()
        selector = selectors.DefaultSelector()
        for sock in (self.ctl, self.data):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while self.readers and self.exit_report is None and not self._paused():
            now = time.monotonic()
            if self.data not in self.readers and self.give_up_at is None:
                self.give_up_at = now + _EXIT_TIMEOUT  # the sandbox is gone: its report is due
            if not self._check_timers(now):
                self._last_resort()
                break
            timers = (self._next_deadline(), self.budget_end, self.kill_at, self.give_up_at)
            wake = min(t for t in timers if t is not None)
            for key, _ in selector.select(max(0.0, wake - now)):
                sock = key.fileobj
                if sock in self.readers and not self._read(sock):
                    selector.unregister(sock)
                    self.readers.pop(sock)
        selector.close()
        if self.exit_report is not None and self.data in self.readers:
            self._drain_data()  # the sandbox is gone: what it wrote before is all there is
        return self.outcome.finish(self.ended, self.exit_report, self.killed_for)

    def _drain_data(self) -> None:
        while self.data in self.readers:
            if not self._read(self.data):
                self.readers.pop(self.data, None)
            elif not self._pending(self.data):
                return

    def _paused(self) -> bool:
        """Whether to stop watching with the sandbox still alive (a session between runs)."""
        return False

    @property
    def vanished_unused(self) -> bool:
        """The sandbox ended without a word and without a report: it never took the request."""
        return not self.heard_from_sandbox and self.exit_report is None

    def _next_deadline(self) -> float | None:
        return self.deadline if self.kill_at is None and self.give_up_at is None else None

    def _cells_announced(self) -> int:
        """How many cells the request says it holds (a session announces more than it has)."""
        return len(self.request.cells)

    def _send_request(self) -> None:
        files = list(self.request.files.items())
        header = {
            "t": "request",
            "n": self._cells_announced(),
            "env": dict(self.request.env),
            "files": [[name, len(content)] for name, content in files],
        }
        self.data.settimeout(_SETUP_TIMEOUT)
        try:
            protocol.send(self.data, header)
            for _, content in files:
                protocol.send_raw(self.data, bytes(content))
        except OSError:
            return  # the sandbox died during setup; its exit report says why
        self._send_cell(0)

    def _send_cell(self, index: int) -> None:
        """Cell `index`, sent only once the previous one is reported; its nonce must come back
        with its reports, so frames written ahead by trainee code are recognised as forged."""
        self.sent = index
        if index >= len(self.request.cells):
            return
        self.nonce = secrets.token_hex(16)
        frame = {
            "t": "cell",
            "i": index,
            "source": self.request.cells[index],
            "test": index in self.request.tests,
            "explain": self.request.explain and index in self.request.tests,
            "k": self.nonce,
        }
        blocking = self.data.gettimeout()
        self.data.settimeout(_SETUP_TIMEOUT)
        try:
            protocol.send(self.data, frame)
        except OSError:
            pass  # the sandbox is gone; its exit report says why
        finally:
            self.data.settimeout(blocking)

    @staticmethod
    def _pending(sock: socket.socket) -> bool:
        try:
            return bool(sock.recv(1, socket.MSG_PEEK))
        except BlockingIOError:
            return False
        except OSError:
            return False

    def _read(self, sock: socket.socket) -> bool:
        if sock is self.data and self.violated:
            return False  # nothing the sandbox says counts any more
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return True
        except OSError:
            chunk = b""
        if not chunk:
            return False
        try:
            for message, size in self.readers[sock].feed_sized(chunk):
                self._handle(sock, message, size)
        except protocol.ProtocolError as exc:
            if sock is self.ctl:
                raise  # our own supervisor, outside the sandbox: a bug, not an attack
            self._violation(exc.what, str(exc))
            return False
        return True

    def _violation(self, what: str, detail: str) -> None:
        self.violated = True
        self.outcome.protocol_violation(what, detail)
        self._kill("it broke the grading protocol")

    def _handle(self, sock: socket.socket, message: dict[str, Any], size: int) -> None:
        now = time.monotonic()
        kind = message["t"]
        if sock is self.ctl:
            protocol.check_supervisor_frame(message)
            if kind == "exit":
                self.exit_report = message
            elif kind == "spawned":
                self.pids = message
            return
        self.heard_from_sandbox = True
        protocol.check_sandbox_frame(message)
        # The capture thread's last progress report may trail the cell's own report, even the
        # end of the run: a report for a finished cell is dropped wherever it lands.
        stale = kind == "progress" and message["i"] < self.outcome.next_cell
        if self.ended and not stale:
            raise protocol.ProtocolError("a frame after the end of the run", "after-end")
        if kind in ("start", "done") and (
            message.get("k") != self.nonce or message["i"] != self.sent
        ):
            detail = f"a report for cell {message['i']!r} was forged"
            pending = self.sent if 0 <= self.sent < len(self.request.cells) else None
            self.violated = True
            self.outcome.forged(detail, pending)
            self._kill("it forged a report")
            return
        if self.budget_end is None:
            self.budget_end = now + self.budget
        if kind == "start":
            self.outcome.started(message["i"])
            self.deadline = min(self.deadline, now + self.request.cell_timeout)
        elif kind == "done":
            self.kept_bytes += size
            if self.kept_bytes > self.max_run_bytes:
                raise protocol.ProtocolError(
                    f"the run's reports exceed {self.max_run_bytes} bytes", "output-bytes"
                )
            self.outcome.done(message)
            self.kill_at = None
            self.deadline = now + _BETWEEN_CELLS + self.request.cell_timeout
            self.nonce = None
            self._send_cell(self.sent + 1)
        elif kind == "progress":
            self.outcome.progress(message)
        elif kind == "end":
            if self.outcome.next_cell < len(self.request.cells):
                raise protocol.ProtocolError(
                    "the end of the run before its last cell", "out-of-order"
                )
            self.ended = True
            self.deadline = min(self.deadline, now + _EXIT_TIMEOUT)
        elif kind == "fatal":
            self.outcome.fatal(message.get("detail", ""))

    def _check_timers(self, now: float) -> bool:
        """Interrupt, then kill, as deadlines pass; False once waiting any longer is pointless."""
        if self.give_up_at is not None:
            return now < self.give_up_at
        if self.budget_end is not None and now >= self.budget_end and not self.ended:
            if self.killed_for is None:
                self.outcome.budget_spent(self.budget)
            self._kill("the notebook used up its time budget")
            return True
        if self.kill_at is not None:
            if now >= self.kill_at:
                self._kill("the cell ignored the interrupt")
        elif now >= self.deadline:
            running = self.outcome.running
            if running is not None and not self.outcome.timed_out(running):
                self.outcome.mark_timeout(running)
                self._command("interrupt")
                self.kill_at = now + self.limits.interrupt_grace
            else:
                self._kill("the sandbox stopped responding")
        return True

    def _kill(self, reason: str) -> None:
        if self.killed_for is None:
            self.killed_for = reason
            self._command("kill")
            self.kill_at = None
            self.give_up_at = time.monotonic() + _EXIT_TIMEOUT

    def _last_resort(self) -> None:
        # The supervisor did not report: kill what we know of directly.
        for pid in (self.pids.get("pid"), self.pids.get("supervisor")):
            if isinstance(pid, int) and pid > 1:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def _command(self, kind: str) -> None:
        try:
            self.ctl.sendall(protocol.encode({"t": kind}))
        except OSError:
            pass
