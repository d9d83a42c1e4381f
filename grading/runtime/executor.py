"""What runs inside the sandbox: executes code cells the way an IPython kernel (ipykernel) does.

An `InteractiveShell` subclass whose display hook, display publisher and traceback hook record
nbformat v4 outputs instead of printing, as ipykernel's ZMQInteractiveShell sends them; Python-
level stdout/stderr and C-level writes to fds 1 and 2 (ipykernel captures those too) become
`stream` outputs. The shell is built in the fork server, before any trainee code exists, so each
forked sandbox starts from a pristine, already-warm copy.
"""

from __future__ import annotations

import builtins
import codecs
import errno
import getpass
import io
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from _json import encode_basestring, make_encoder
from collections.abc import Callable
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import StdinNotImplementedError
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type
from traitlets.config import Config

from grading.runtime import protocol, verdict, widgets
from grading.runtime.outputs import OutputCaps, OutputLimitExceeded, OutputSink

PROGRESS_INTERVAL = 0.5

# The sink of the running sandbox; set once in `serve` (one executor per process).
_SINK: OutputSink | None = None


def _sink() -> OutputSink:
    assert _SINK is not None, "the executor is not serving"
    return _SINK


def _wire(bundle: dict) -> dict:
    """A mime bundle as it comes out of jupyter_client's message packing: bytes (a PIL image's
    PNG) as base64 text, numbers and iterables as JSON has them, as nbclient receives them."""
    return _WIRE_LOADS(_WIRE_DUMPS(bundle))


def _wire_functions() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    import json

    try:
        from jupyter_client.jsonutil import json_default
    except ImportError:  # jupyter_client comes with ipykernel; bytes as text otherwise
        json_default = str
    encoder = json.JSONEncoder(default=json_default, allow_nan=True)
    return encoder.encode, json.JSONDecoder().decode


# Bound at import (in the fork server): a cell that patches json changes nothing here.
_WIRE_DUMPS, _WIRE_LOADS = _wire_functions()


class _RecordingDisplayHook(DisplayHook):
    """Records the cell's last expression as an `execute_result` (ZMQShellDisplayHook's job)."""

    _bundle: tuple[dict, dict] | None = None
    active = False  # between start and finish: a traceback now means formatting failed

    def start_displayhook(self) -> None:
        self._bundle = None
        self.active = True

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        self._bundle = (format_dict, md_dict or {})

    def finish_displayhook(self) -> None:
        if self._bundle is not None and _SINK is not None:
            data, metadata = _wire(self._bundle[0]), _wire(self._bundle[1])
            _sink().add(
                {
                    "output_type": "execute_result",
                    "execution_count": self.prompt_count,
                    "data": data,
                    "metadata": metadata,
                }
            )
        self._bundle = None
        self.active = False


class _RecordingDisplayPublisher(DisplayPublisher):
    """Records display() calls as `display_data` outputs (ZMQDisplayPublisher's job)."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
        display_id = (transient or {}).get("display_id")
        _sink().display(_wire(data), _wire(metadata or {}), display_id, update)

    def clear_output(self, wait=False):
        _sink().clear(wait)


class SandboxShell(InteractiveShell):
    """InteractiveShell configured and hooked like ipykernel's ZMQInteractiveShell."""

    displayhook_class = Type(_RecordingDisplayHook)
    display_pub_class = Type(_RecordingDisplayPublisher)

    def ask_exit(self) -> None:
        """exit()/quit() in a cell: under nbclient it produces no output and later cells run."""

    def init_virtualenv(self) -> None:
        """A kernel does no virtualenv detection (ipykernel overrides this the same way)."""

    active_eventloop: str | None = None

    def enable_gui(self, gui: str | None = None) -> None:
        """ipykernel's enable_gui: `%matplotlib inline` (and notebook, widget, ipympl) need no
        event loop; a GUI toolkit's loop (qt, tk, ...) cannot run in the sandbox, which has no
        display: a UsageError saying so, noted as `unsupported` for the grader."""
        from IPython.core.error import UsageError

        loops = _event_loops()
        if gui not in loops:
            raise UsageError(f"Invalid GUI request {gui!r}, valid ones are:{loops.keys()}")
        if loops[gui] is not None:
            detail = f"the GUI event loop {gui!r} is not available in the grading sandbox"
            if _SINK is not None:
                _sink().note_issue("unsupported", detail)
            raise UsageError(detail)
        self.active_eventloop = gui

    _last_traceback: list[str] | None = None
    _last_traceback_during_displayhook = False

    def run_cell(self, *args, **kwargs):
        """Run a cell, remembering its traceback for the execute reply (as ipykernel does)."""
        self._last_traceback = None
        self._last_traceback_during_displayhook = False
        return super().run_cell(*args, **kwargs)

    def execute_reply(self, result) -> dict[str, Any]:
        """What ipykernel's do_execute would reply for this run_cell result."""
        if result.success and not self._last_traceback_during_displayhook:
            return {"status": "ok"}
        error = (
            result.error_before_exec
            if result.error_before_exec is not None
            else (result.error_in_exec)
        )
        return {
            "status": "error",
            "ename": type(error).__name__,
            "evalue": str(error),
            "traceback": list(self._last_traceback or []),
        }

    def _showtraceback(self, etype, evalue, stb) -> None:
        if getattr(self.displayhook, "active", False):
            self._last_traceback_during_displayhook = True
        self._last_traceback = list(stb)
        sink = _sink()
        sink.add(
            {
                "output_type": "error",
                "ename": str(etype.__name__),
                "evalue": str(evalue),
                "traceback": list(stb),
            }
        )
        _note_resource_issue(sink, evalue)


def _event_loops() -> dict[str | None, Any]:
    """ipykernel's table of GUI names (None: no event loop needed, e.g. inline)."""
    try:
        from ipykernel.eventloops import loop_map
    except ImportError:
        return {None: None, "inline": None, "notebook": None, "nbagg": None, "webagg": None}
    return dict(loop_map)


def _note_resource_issue(sink: OutputSink, error: BaseException | None) -> None:
    """Tag errors that mean a sandbox limit was hit, so the grader can say why."""
    if isinstance(error, MemoryError):
        sink.note_issue("memory", "the cell ran out of memory (MemoryError)")
    elif isinstance(error, OutputLimitExceeded):
        sink.note_issue("output-limit", str(error))
    elif isinstance(error, OSError) and error.errno in (errno.EFBIG, errno.ENOSPC):
        sink.note_issue("file-size", f"file size or disk limit reached: {error}")
    elif isinstance(error, OSError) and error.errno == errno.EAGAIN:
        sink.note_issue("processes", f"process limit reached: {error}")


def build_shell() -> SandboxShell:
    """A fresh shell as ipykernel starts it under nbgrader (history kept in memory only)."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.autoindent = False
    # The singleton instance: IPython.display.display() only publishes through an initialized
    # InteractiveShell instance.
    SandboxShell.clear_instance()
    return SandboxShell.instance(config=config, compiler_class=_kernel_compiler())


def _kernel_compiler() -> type:
    """ipykernel's compiler names cells /tmp/ipykernel_<pid>/<hash>.py, which shows in
    warnings and tracebacks; IPython's own CachingCompiler when ipykernel is absent."""
    try:
        from ipykernel.compiler import XCachingCompiler
    except ImportError:
        from IPython.core.compilerop import CachingCompiler

        return CachingCompiler
    return XCachingCompiler


def warm_up() -> None:
    """Import what the first cell, result and traceback would import, in a throwaway shell."""
    global _SINK
    shell = build_shell()
    _SINK = OutputSink(OutputCaps())
    try:
        _event_loops()  # ipykernel's table (and zmq) imported here, not in each sandbox
        widgets.install(shell, _SINK)
        for source in ("x = 1\nx", "1/0", "def f(:\n  pass", "print('x')", "%time 1"):
            _SINK.begin_cell(0)
            saved = sys.stdout
            sys.stdout = _SinkStream("stdout")
            try:
                shell.run_cell(source, store_history=True)
            finally:
                sys.stdout = saved
    finally:
        _SINK = None
        SandboxShell.clear_instance()
        shell.history_manager.end_session()


class _SinkStream(io.TextIOBase):
    """sys.stdout / sys.stderr inside the sandbox (like ipykernel's OutStream)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fd = 1 if name == "stdout" else 2

    @property
    def encoding(self) -> str:
        return "UTF-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        _sink().write_stream(self.name, text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        # The fd is captured too, so subprocesses given sys.stdout still land in this stream.
        return self._fd


# protocol.encode's frame, built from C functions taken at import (before any trainee code): a
# cell that patches json, struct or this module's functions does not change what is reported.
_C_ENCODE = make_encoder(None, None, encode_basestring, None, ":", ",", False, False, True)
_PACK_LENGTH = struct.Struct(">I").pack


def _encode_frame(message: dict[str, Any]) -> bytes:
    body = "".join(_C_ENCODE(message, 0)).encode("utf-8")
    return _PACK_LENGTH(len(body)) + body


class _Reporter:
    """Sends frames to the host from the main thread and the capture thread, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        # bound now: patching socket, json or this class later changes nothing
        self._sendall = sock.sendall
        self._encode = _encode_frame
        self._fd = sock.fileno()
        self._set_blocking = os.set_blocking

    def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        frame = self._encode(message)
        with self.lock:
            self._set_blocking(self._fd, True)  # a cell may have changed the shared file flags
            self._sendall(frame)


class _Pump(threading.Thread):
    """The capture thread. It lets go of its work as soon as it runs, so that trainee code
    finding it with `threading.enumerate()` cannot follow it to the capture and the reporter."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__(name="fd-capture", daemon=True)
        self._work: Callable[[], None] | None = work
        self._taken = threading.Event()

    def start(self) -> None:
        super().start()
        self._taken.wait()  # before any trainee code: the reference is gone

    def run(self) -> None:
        work, self._work = self._work, None
        self._taken.set()
        if work is not None:
            work()


class _FdCapture:
    """Pipes on fds 1 and 2 drained by a thread into the sink, as ipykernel's fd watchers do.

    The same thread reports a long-running cell's outputs so far every PROGRESS_INTERVAL, as a
    kernel streams them: if the cell never finishes (killed, crashed), the host still has them.
    """

    def __init__(self, sink: OutputSink, reporter: _Reporter) -> None:
        self._sink = sink
        self._reporter = reporter
        self._reported = (None, -1)
        self._readers: dict[int, tuple[str, Any]] = {}
        for fd, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._readers[read_end] = (name, codecs.getincrementaldecoder("utf-8")("replace"))
        _Pump(self._pump).start()

    def _pump(self) -> None:
        while True:
            ready, _, _ = select.select(list(self._readers), [], [], PROGRESS_INTERVAL)
            for fd in ready:
                self._read_available(fd)
            self._report_progress()

    def _report_progress(self) -> None:
        if time.monotonic() - self._sink.cell_started < PROGRESS_INTERVAL:
            return
        index, changes, outputs = self._sink.snapshot()
        if index is None or (index, changes) == self._reported:
            return
        self._reported = (index, changes)
        try:
            self._reporter.send({"t": "progress", "i": index, "outputs": outputs})
        except OSError:
            pass

    def _read_available(self, fd: int) -> None:
        name, decoder = self._readers[fd]
        with self._sink.lock:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    return
                if not chunk:
                    return
                self._sink.write_stream(name, decoder.decode(chunk))

    def drain(self) -> None:
        """Move whatever C code or subprocesses wrote so far into the current cell."""
        for fd in self._readers:
            self._read_available(fd)


class _PristineTransforms:
    """The shell's input and AST transformers before any trainee code ran.

    A kernel keeps whatever transformers a cell installs, so under nbgrader a trainee's cell can
    rewrite the hidden tests that run after it (e.g. turn every `assert` into `pass`). Restoring
    these before each cell closes that hole; notebooks that install transformers on purpose
    are not something an exercise needs.
    """

    def __init__(self, shell: SandboxShell) -> None:
        manager = shell.input_transformer_manager
        self.manager = manager
        self.cleanup = list(manager.cleanup_transforms)
        self.line = list(manager.line_transforms)
        self.token = list(manager.token_transformers)
        self.post = list(shell.input_transformers_post)
        self.ast = list(shell.ast_transformers)

    def restore(self, shell: SandboxShell) -> None:
        """Put the pristine transformers back (in place and as the shell's attributes)."""
        manager = self.manager
        shell.input_transformer_manager = manager
        manager.cleanup_transforms = list(self.cleanup)
        manager.line_transforms = list(self.line)
        manager.token_transformers = list(self.token)
        shell.input_transformers_post = list(self.post)
        shell.ast_transformers = list(self.ast)


class _Executor:
    """Runs the request's cells in order and reports each cell as soon as it finishes."""

    def __init__(
        self,
        shell: SandboxShell,
        reporter: _Reporter,
        sink: OutputSink,
        run_test: Callable[..., dict[str, Any]],
    ) -> None:
        self.shell = shell
        self.sink = sink
        self.pid = os.getpid()
        self.transforms = _PristineTransforms(shell)
        # Looked up now, before trainee code could replace them on the instance or the class.
        self.run_cell = SandboxShell.run_cell
        self.execute_reply = SandboxShell.execute_reply
        self.streams = (sys.stdout, sys.stderr)
        self.send = reporter.send  # bound before trainee code could patch _Reporter
        # The runner's bound method only: no module global or attribute leads to the runner.
        self.run_test = run_test
        # The real functions, before _guard_signal_handlers wraps what trainee code calls.
        self._signal, self._getsignal = signal.signal, signal.getsignal
        self.kernel: widgets.KernelStandIn | None = None

    @staticmethod
    def _between_cells(signum, frame) -> None:
        """The host only interrupts a running cell; one landing just after it ended is dropped."""

    def _arm_interrupt(self) -> None:
        # Python's own C handler, as in a kernel: the KeyboardInterrupt traceback then shows the
        # trainee's code only. A handler the trainee installed in an earlier cell stays.
        if self._getsignal(signal.SIGINT) is self._between_cells:
            self._signal(signal.SIGINT, signal.default_int_handler)

    def _disarm_interrupt(self) -> None:
        if self._getsignal(signal.SIGINT) is signal.default_int_handler:
            self._signal(signal.SIGINT, self._between_cells)

    def run(self, cells: Callable[[int], dict[str, Any]], count: int, capture: _FdCapture) -> None:
        """Run `count` cells, each asked for (`cells(index)`) only after the previous one was
        reported: the sandbox never holds a cell before it runs it."""
        for index in range(count):
            cell = cells(index)
            source, nonce = cell["source"], cell.get("k")
            if not source.strip():
                # nbclient skips blank cells: no execution count, no outputs.
                self._report({"t": "done", "i": index, "outputs": [], "count": None}, nonce)
                continue
            self._report({"t": "start", "i": index}, nonce)
            count_before = self.shell.execution_count
            self.sink.begin_cell(index)
            if self.kernel is not None:
                self.kernel.new_cell()
            self.transforms.restore(self.shell)
            test = bool(cell.get("test"))
            explain = test and cell.get("explain") is True
            del cell
            judged = None
            self._arm_interrupt()
            try:
                try:
                    if test:
                        judged, reply = self._run_test(source, count_before, explain)
                    else:
                        result = self.run_cell(self.shell, source, store_history=True, silent=False)
                        reply = self.execute_reply(self.shell, result)
                finally:
                    self._disarm_interrupt()
            except KeyboardInterrupt:
                # Landed outside the user's code (IPython's bookkeeping, or just as it ended).
                self._disarm_interrupt()
                reply = {
                    "status": "error",
                    "ename": "KeyboardInterrupt",
                    "evalue": "",
                    "traceback": [],
                }
                if test:
                    judged = {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}
            del source
            if os.getpid() != self.pid:
                os._exit(0)  # a child forked by the cell finished it: never speak for the parent
            capture.drain()
            outputs, issues = self.sink.end_cell()
            message = {
                "t": "done",
                "i": index,
                "outputs": outputs,
                "count": count_before,
                "issues": issues,
                "reply": reply,
            }
            if test:
                stderr = any(o.get("name") == "stderr" for o in outputs if isinstance(o, dict))
                message["verdict"] = {**(judged or {}), "stderr": stderr}
            self._report(message, nonce)

    def _report(self, message: dict[str, Any], nonce: Any) -> None:
        if nonce is not None:
            message["k"] = nonce
        self.send(message)

    def _run_test(
        self, source: str, count: int, explain: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A test cell through the runner (no IPython machinery); outputs as a kernel shows them
        (for staff), the verdict computed by the runner; with `explain`, the error output says
        which line failed and what its comparison compared."""
        # sys.stdout/err as the executor set them: trainee code may have replaced them
        sys.stdout, sys.stderr = self.streams
        self.shell.execution_count = count + 1
        judged = self.run_test(source, self.shell.user_ns, explain)
        if judged["status"] == "ok" and judged.get("result") is not None:
            self.sink.add(
                {
                    "output_type": "execute_result",
                    "execution_count": count,
                    "data": {"text/plain": judged["result"]},
                    "metadata": {},
                }
            )
        if judged["status"] == "error":
            error = {
                "output_type": "error",
                "ename": judged["ename"],
                "evalue": judged["evalue"],
                "traceback": [
                    *_explained_lines(judged.get("explain")),
                    f"{judged['ename']}: {judged['evalue']}",
                ],
            }
            self.sink.add(error)
            reply = {"status": "error", **{k: error[k] for k in ("ename", "evalue", "traceback")}}
            return judged, reply
        return judged, {"status": "ok"}


def _explained_lines(explained: dict[str, Any] | None) -> list[str]:
    """The failing line of a test, IPython's way (`----> 3 assert ...`), and its comparison
    with both sides' values: notation, not words, so it reads the same in every language."""
    if not explained:
        return []
    marker = f"----> {explained['line']} "
    first, *rest = explained["code"].split("\n")
    lines = [marker + first, *(" " * len(marker) + line for line in rest)]
    compare = explained.get("compare")
    if compare:
        lines.append(f"{' ' * len(marker)}{compare['left']} {compare['op']} {compare['right']}")
    return lines


def serve(
    shell: SandboxShell,
    sock: socket.socket,
    caps: OutputCaps,
    workdir: str,
    after_files: Callable[[], None],
) -> None:
    """Receive one request on `sock`, run it, report, and exit the process (never returns).

    `after_files` runs once the request's files are in place, before any cell."""
    global _SINK
    try:
        request = protocol.recv(sock)
        _write_files(sock, request, workdir)
        after_files()
        os.environ.update({str(k): str(v) for k, v in request.get("env", {}).items()})
        _SINK = OutputSink(caps)
        reporter = _Reporter(sock)
        sock_fd = sock.fileno()
        os.register_at_fork(after_in_child=lambda: _forget_socket(sock_fd))
        capture = _FdCapture(_SINK, reporter)
        sys.stdout, sys.stderr = _SinkStream("stdout"), _SinkStream("stderr")
        sys.stdin = open(os.devnull)
        builtins.input, getpass.getpass = _no_input, _no_getpass
        runner = verdict.take_runner()  # from now on held by this frame and the executor only
        runner.accept(vars(builtins), "input")
        runner.accept(globals(), "_SINK")
        runner.install_audit_hook()
        runner.pin(shell.user_ns, "get_ipython")
        _watch_network(_SINK)
        executor = _Executor(shell, reporter, _SINK, runner.run)
        del runner
        executor.kernel = widgets.install(shell, _SINK)
        signal.signal(signal.SIGINT, executor._between_cells)
        _guard_signal_handlers()
        shell.user_ns["_dh"] = [workdir]
        _put_notebook_folder_on_path(sys.path)
        if "cells" in request:  # all cells in the request (the former protocol)
            listed = [{"source": source} for source in request["cells"]]
            executor.run(listed.__getitem__, len(listed), capture)
        else:
            recv = protocol.recv  # taken now: a cell that patches the module changes nothing
            executor.run(lambda index: _next_cell(recv, sock, index), int(request["n"]), capture)
        reporter.send({"t": "end"})
    except BaseException as exc:
        try:
            protocol.send(sock, {"t": "fatal", "detail": f"{type(exc).__name__}: {exc}"})
        except OSError:
            pass
        os._exit(70)
    os._exit(0)


def _guard_signal_handlers() -> None:
    """A Python signal handler is called with the frame that was running: the executor's or a
    test's, whose locals lead to the runner. Handlers trainee code installs get None instead.

    `signal.signal` and `_signal.signal` are replaced (so are `getsignal`, which still answers
    the trainee's own handler), and `_imp.create_builtin` refuses to make a second `_signal`
    module, which would hold the original function again."""
    import _imp
    import _signal

    real_signal, real_getsignal = _signal.signal, _signal.getsignal
    real_create = _imp.create_builtin
    wrapped: dict[int, Any] = {}
    is_callable, is_int = callable, int.__instancecheck__

    def guarded_signal(signalnum: Any, handler: Any) -> Any:
        number = int(signalnum)
        if is_callable(handler):
            original = handler

            def handler(signum: int, frame: Any, original: Any = original) -> Any:
                return original(signum, None)

            wrapped[id(handler)] = original
            previous = real_signal(number, handler)
        else:  # SIG_DFL and SIG_IGN come as signal.Handlers members: plain ints, as signal.py does
            previous = real_signal(number, int(handler) if is_int(handler) else handler)
        previous = wrapped.pop(id(previous), previous)
        return signal.Handlers(previous) if previous in (0, 1) else previous  # as signal.py

    def guarded_getsignal(signalnum: Any) -> Any:
        current = real_getsignal(int(signalnum))
        current = wrapped.get(id(current), current)
        return signal.Handlers(current) if current in (0, 1) else current

    def guarded_create(spec: Any) -> Any:
        if getattr(spec, "name", None) == "_signal":
            raise ImportError("the signal module cannot be loaded a second time in a sandbox")
        return real_create(spec)

    _signal.signal, _signal.getsignal = guarded_signal, guarded_getsignal
    signal.signal, signal.getsignal = guarded_signal, guarded_getsignal
    _imp.create_builtin = guarded_create


_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _watch_network(sink: OutputSink) -> None:
    """Note an attempt to reach another host (the sandbox has loopback only), so a cell that
    fails for want of a network is flagged `network` rather than scoring a silent 0."""
    note, is_str, is_tuple = sink.note_issue, str.__instancecheck__, tuple.__instancecheck__

    def hook(event: str, args: tuple) -> None:
        if event == "socket.getaddrinfo" and args and is_str(args[0]):
            host = args[0]
        elif event in ("socket.connect", "socket.sendto") and len(args) > 1:
            address = args[1]
            if not (is_tuple(address) and address and is_str(address[0])):
                return  # a Unix socket
            host = address[0]
        else:
            return
        if host and not host.startswith(_LOOPBACK):
            note("network", f"tried to reach {host[:100]}: the grading sandbox has no network")

    sys.addaudithook(hook)


_SITE_DIRS = ("site-packages", "dist-packages")


def _put_notebook_folder_on_path(path: list[str]) -> None:
    """What IPython's InteractiveShellApp.init_path does in ipykernel: '' (the working
    directory, the notebook's folder) before the first site-packages, after the standard
    library. The sandbox's interpreter runs with -I, which would make init_path skip it."""
    if "" in path:
        return
    sites = [i for i, entry in enumerate(path) if os.path.basename(entry) in _SITE_DIRS]
    path.insert(sites[0] if sites else 0, "")


def _next_cell(
    recv: Callable[[socket.socket], dict[str, Any]], sock: socket.socket, index: int
) -> dict[str, Any]:
    """Wait for the host to send cell `index` (it does once the previous one is reported)."""
    # Blocking again: a cell that made a duplicate of this socket non-blocking changed the
    # shared file description.
    os.set_blocking(sock.fileno(), True)
    message = recv(sock)
    if message.get("t") != "cell" or message.get("i") != index:
        raise protocol.ProtocolError(f"expected cell {index}, got {message.get('t')!r}")
    if not isinstance(message.get("source"), str):
        raise protocol.ProtocolError("a cell's source must be a string")
    return message


def _no_input(prompt: object = "") -> str:
    """builtins.input under nbclient, which runs kernels with allow_stdin=False."""
    raise StdinNotImplementedError(
        "raw_input was called, but this frontend does not support input requests."
    )


def _no_getpass(prompt: str = "Password: ", stream: object = None, **kwargs: object) -> str:
    """getpass.getpass under nbclient (allow_stdin=False)."""
    raise StdinNotImplementedError(
        "getpass was called, but this frontend does not support input requests."
    )


def _forget_socket(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _write_files(sock: socket.socket, request: dict[str, Any], workdir: str) -> None:
    for name, size in request.get("files", []):
        data = protocol.recv_raw(sock, max_size=int(size))
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
