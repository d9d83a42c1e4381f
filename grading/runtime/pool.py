"""The host side: a fork server kept warm, and `Runtime.run` driving one sandbox per request.

Each `run` takes a slot (at most `slots` sandboxes at once; each slot has its own sandbox uid),
asks the fork server for a fresh sandbox, streams the request to it, and watches it: a cell past
its timeout is interrupted (KeyboardInterrupt, like nbclient's interrupt_on_timeout) and, if it
does not stop within the grace period, the sandbox is killed. Whatever happens, the outcome has
one output list per cell and says why something went wrong.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from grading.runtime import RunOutcome, RunRequest, protocol
from grading.runtime.isolation import SandboxUnavailable, check, describe
from grading.runtime.limits import Limits
from grading.runtime.outcome import OutcomeBuilder

DEFAULT_PRELOAD = ("numpy", "pandas")
_START_TIMEOUT = 120.0
_SETUP_TIMEOUT = 30.0  # from spawn to the first cell: fork, mounts, the request's files
_IDLE_TIMEOUT = 30.0  # between cells, only our own code runs: silence means a wedged sandbox
_EXIT_TIMEOUT = 10.0
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
        self.sock.settimeout(_START_TIMEOUT)
        try:
            hello = json.loads(self.sock.recv(1 << 16) or b"{}")
        except (TimeoutError, ValueError):
            hello = {}
        self.sock.settimeout(None)
        if hello.get("t") != "hello":
            self.close()
            raise SandboxUnavailable("the grading fork server did not start (see its stderr)")
        self.probe: dict[str, Any] = hello["isolation"]

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
        self.slots = slots or os.cpu_count() or 1
        self._preload = preload
        instance = next(_instances)
        # A distinct uid per slot: RLIMIT_NPROC then counts one sandbox, and no two sandboxes
        # running at once could signal or read each other even without namespaces.
        self.uid_base = 1_000_000 + ((os.getpid() * 8 + instance) % 50_000) * 256
        self._free_slots: list[int] = list(range(self.slots))
        self._slot_ready = threading.Condition()
        self._server_lock = threading.Lock()
        self._jobs = itertools.count()
        self._closed = False
        self._standby: dict[int, tuple[socket.socket, socket.socket]] = {}
        self._server = _ForkServer(preload)
        self.isolation = describe(self._server.probe, self.limits.to_json())
        self.isolation["sandbox_uids"] = [self.uid_base, self.uid_base + self.slots - 1]
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
        return range(self.uid_base, self.uid_base + self.slots)

    def run(self, request: RunRequest) -> RunOutcome:
        """Run the request's cells in one fresh sandbox and return every cell's outputs."""
        _validate(request, self.limits)
        slot = self._take_slot()
        try:
            return self._run_in_slot(request, slot)
        finally:
            with self._slot_ready:
                self._free_slots.append(slot)
                self._slot_ready.notify()

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

    def _take_slot(self) -> int:
        with self._slot_ready:
            while not self._free_slots:
                self._slot_ready.wait()
            return self._free_slots.pop()

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
            "uid": self.uid_base + slot,
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
                if not watch.vanished_unused:
                    return outcome
                # The standby died before taking the request (e.g. the fork server was
                # restarted): run the request in a fresh sandbox instead.
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


class _Watch:
    """Drives one sandbox: sends the request, relays timeouts, collects the outcome."""

    def __init__(
        self, request: RunRequest, limits: Limits, ctl: socket.socket, data: socket.socket
    ) -> None:
        self.request = request
        self.limits = limits
        self.ctl = ctl
        self.data = data
        self.outcome = OutcomeBuilder(request.cells, request.cell_timeout)
        # JSON escaping can grow kept text several times over (control characters: 6x).
        max_frame = 8 * limits.output.keep_cell_bytes + (1 << 20)
        self.readers = {ctl: protocol.FrameReader(1 << 16), data: protocol.FrameReader(max_frame)}
        self.exit_report: dict[str, Any] | None = None
        self.heard_from_sandbox = False
        self.ended = False
        self.killed_for: str | None = None
        self.deadline = time.monotonic() + _SETUP_TIMEOUT
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
        while self.readers and self.exit_report is None:
            now = time.monotonic()
            if self.data not in self.readers and self.give_up_at is None:
                self.give_up_at = now + _EXIT_TIMEOUT  # the sandbox is gone: its report is due
            if not self._check_timers(now):
                self._last_resort()
                break
            wake = min(t for t in (self._next_deadline(), self.kill_at, self.give_up_at) if t)
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

    @property
    def vanished_unused(self) -> bool:
        """The sandbox ended without a word and without a report: it never took the request."""
        return not self.heard_from_sandbox and self.exit_report is None

    def _next_deadline(self) -> float | None:
        return self.deadline if self.kill_at is None and self.give_up_at is None else None

    def _send_request(self) -> None:
        files = list(self.request.files.items())
        header = {
            "t": "request",
            "n": len(self.request.cells),
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
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return True
        except OSError:
            chunk = b""
        if not chunk:
            return False
        try:
            messages = self.readers[sock].feed(chunk)
        except protocol.ProtocolError as exc:
            self.outcome.protocol_violation(str(exc))
            self._kill("it broke the output protocol")
            return False
        for message in messages:
            self._handle(sock, message)
        return True

    def _handle(self, sock: socket.socket, message: dict[str, Any]) -> None:
        now = time.monotonic()
        kind = message["t"]
        if sock is self.data:
            self.heard_from_sandbox = True
        if sock is self.ctl:
            if kind == "exit":
                self.exit_report = message
            elif kind == "spawned":
                self.pids = message
            return
        if kind in ("start", "done") and (
            message.get("k") != self.nonce or message.get("i") != self.sent
        ):
            detail = f"a report for cell {message.get('i')!r} was forged"
            pending = self.sent if 0 <= self.sent < len(self.request.cells) else None
            self.outcome.protocol_violation(detail, "forged", pending)
            self._kill("it forged a report")
            return
        if kind == "start":
            self.outcome.started(message.get("i"))
            self.deadline = now + self.request.cell_timeout
        elif kind == "done":
            if not self.outcome.done(message):
                self._kill("it broke the output protocol")
                return
            self.kill_at = None
            self.deadline = now + _IDLE_TIMEOUT
            self.nonce = None
            self._send_cell(self.sent + 1)
        elif kind == "progress":
            self.outcome.progress(message)
        elif kind == "end":
            self.ended = True
        elif kind == "fatal":
            self.outcome.fatal(str(message.get("detail", "")))

    def _check_timers(self, now: float) -> bool:
        """Interrupt, then kill, as deadlines pass; False once waiting any longer is pointless."""
        if self.give_up_at is not None:
            return now < self.give_up_at
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
