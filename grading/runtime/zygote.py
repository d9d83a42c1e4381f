"""The fork server: a warm interpreter that forks one fresh sandbox per submission.

Started by the host (pool.py) with an empty environment, it imports IPython, the executor and the
common heavy libraries once, builds a pristine shell, probes what isolation the host offers, says
hello, then for each job message forks a supervisor. The supervisor (root, outside the sandbox)
forks the sandbox as pid 1 of a new pid namespace, relays the host's interrupt/kill requests to
it, reaps it, reports how it ended (with the cgroup counters) and cleans up. The fork server
itself never runs trainee code, so every sandbox starts from the same untouched state.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
import traceback

from grading.runtime import cgroups, executor, protocol, sandbox, seccomp, syscalls, verdict
from grading.runtime import scratch as scratch_dir
from grading.runtime.limits import Limits

_PROBE_UID = 65534


def main(control_fd: int, preload: list[str]) -> None:
    """Serve spawn requests on `control_fd` until the host closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=control_fd)
    scratch_dir.remove_stale()
    own = scratch_dir.create()  # locked for as long as this server (or a job it started) lives
    scratch = own.path
    os.environ["HOME"] = os.environ["IPYTHONDIR"] = os.path.join(scratch, "home")
    os.mkdir(os.environ["HOME"], 0o700)
    loaded = _preload(preload)
    executor.warm_up()
    shell = executor.build_shell()
    verdict.runner()  # the test runner's references and snapshot, before any trainee code
    plan, report = _probe(scratch)
    filter_ = seccomp.Filter()
    report["seccomp"] = filter_.report()
    # Cgroups need root outside any user namespace (the sandbox joins them itself).
    usable = plan.drop_uid and not plan.userns
    layout = cgroups.Cgroups.create(os.getpid()) if usable else cgroups.Cgroups()
    report["cgroups"] = sorted(layout.parents)
    report["cgroup_version"] = layout.version or None
    report["cpu_cgroup"] = "cpu" in layout.parents
    report["preloaded"] = loaded
    control.send(json.dumps({"t": "hello", "pid": os.getpid(), "isolation": report}).encode())
    try:
        _serve(control, shell, plan, layout, filter_)
    finally:
        _wait_for_supervisors(timeout=10.0)
        layout.remove()
        own.remove()
    # All cleaned up: skip the interpreter's own shutdown (collecting the shell and every
    # preloaded module takes ~0.4 s), which the host's `close` would otherwise wait for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _preload(modules: list[str]) -> list[str]:
    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            continue
        loaded.append(name)
    return loaded


def _probe(scratch: str) -> tuple[sandbox.SandboxPlan, dict]:
    """Find out, in throwaway children, which isolation works here: as root, namespaces plus a
    uid drop; as another user, an unprivileged user namespace (mapping only that user)."""
    root_mountpoint = os.path.join(scratch, "root")
    os.mkdir(root_mountpoint, 0o755)
    jobs = os.path.join(scratch, "jobs")
    os.mkdir(jobs, 0o711)
    is_root = os.geteuid() == 0
    namespaces = is_root and _namespaces_work(root_mountpoint, userns=False)
    # Never for root: a user namespace would map the sandbox onto the host's root user.
    userns = not is_root and _namespaces_work(root_mountpoint, userns=True)
    plan = sandbox.SandboxPlan(
        namespaces=namespaces or userns,
        drop_uid=is_root,
        userns=userns,
        root_mountpoint=root_mountpoint,
        scratch_dir=jobs,
        python_paths=sandbox.python_paths(),
        address_space_base=_address_space() + (256 << 20),
    )
    report = {
        "uid_drop": plan.drop_uid,
        "user_namespace": userns,
        "namespaces": (["user"] if userns else []) + ["mount", "pid", "net", "ipc", "uts"]
        if plan.namespaces
        else [],
        "filesystem": "private tmpfs root, read-only OS and Python binds"
        if plan.namespaces
        else "shared host filesystem",
        "python_paths": list(plan.python_paths),
        "rlimits": ["AS", "CPU", "FSIZE", "NOFILE", "NPROC", "CORE"],
        "no_new_privs": True,
    }
    return plan, report


def _namespaces_work(root_mountpoint: str, userns: bool) -> bool:
    """Try, in a child, what a sandbox does: (user,) pid, mount, net namespaces, a tmpfs root
    with a read-only bind and its own /proc, loopback up."""
    child = os.fork()
    if child == 0:
        try:
            if userns:
                syscalls.enter_user_namespace(_PROBE_UID, os.geteuid(), os.getegid())
            syscalls.unshare(syscalls.CLONE_NEWPID)
            grandchild = os.fork()
            if grandchild == 0:
                try:
                    syscalls.unshare(
                        syscalls.CLONE_NEWNS
                        | syscalls.CLONE_NEWNET
                        | syscalls.CLONE_NEWIPC
                        | syscalls.CLONE_NEWUTS
                    )
                    sandbox.probe_filesystem(root_mountpoint)
                    syscalls.loopback_up()
                except BaseException:
                    os._exit(1)
                os._exit(0)
            os._exit(os.waitstatus_to_exitcode(os.waitpid(grandchild, 0)[1]))
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0


def _address_space() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _serve(control: socket.socket, shell, plan: sandbox.SandboxPlan, layout, filter_) -> None:
    while True:
        _reap()
        ready, _, _ = select.select([control], [], [], 1.0)
        if not ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        if not message:
            return
        spec = json.loads(message)
        pid = os.fork()
        if pid == 0:
            try:
                _supervise(spec, fds, control, shell, plan, layout, filter_)
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        for fd in fds:
            os.close(fd)


def _wait_for_supervisors(timeout: float) -> None:
    # Supervisors end once the host's sockets close; their cgroups must go before the parents.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _supervise(spec, fds, control, shell, plan: sandbox.SandboxPlan, layout, filter_) -> None:
    control.close()
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    ctl = socket.socket(fileno=fds[0])
    data = socket.socket(fileno=fds[1])
    limits = Limits.from_json(spec["limits"])
    # A /tmp cleaner may have removed the scratch folders of a long-running server.
    os.makedirs(plan.root_mountpoint, mode=0o755, exist_ok=True)
    os.makedirs(plan.scratch_dir, mode=0o711, exist_ok=True)
    uid = int(spec["uid"])
    try:
        job_cgroups = cgroups.JobCgroups.create(
            layout, f"job-{spec['job']}", limits.memory_bytes, limits.processes, limits.cpu_cores
        )
    except OSError as exc:
        protocol.send(data, {"t": "fatal", "detail": f"cannot create the job's cgroups: {exc}"})
        os._exit(1)
    fallback_dir = None
    if not plan.namespaces:
        fallback_dir = os.path.join(plan.scratch_dir, f"job-{spec['job']}")
    pid = 0
    try:
        if plan.userns:
            # The slot's uid inside, this (unprivileged) user outside.
            syscalls.enter_user_namespace(uid, os.geteuid(), os.getegid())
        if plan.namespaces:
            # Only children enter a new pid namespace: the sandbox becomes its pid 1, and when
            # it dies the kernel kills every process it left behind.
            syscalls.unshare(syscalls.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            ctl.close()
            _sandbox_child(plan, uid, limits, job_cgroups, data, shell, fallback_dir, filter_)
        data.close()
        try:
            protocol.send(ctl, {"t": "spawned", "pid": pid, "supervisor": os.getpid()})
        except OSError:
            pass  # noticed by _watch as the end of the control socket
        status = _watch(ctl, pid)
        report = job_cgroups.report()
    finally:
        job_cgroups.destroy()
        if not plan.namespaces and pid > 0:
            _kill_group(pid)
        if fallback_dir:
            shutil.rmtree(fallback_dir, ignore_errors=True)
    code = os.waitstatus_to_exitcode(status)
    if code > 128:
        code = -(code - 128)  # the sandbox's init reports a signal as 128 + its number
    try:
        protocol.send(
            ctl,
            {
                "t": "exit",
                "code": code if code >= 0 else None,
                "signal": -code if code < 0 else None,
                **report,
            },
        )
    except OSError:
        pass  # the host stopped listening (closed runtime, unused standby)
    os._exit(0)


def _sandbox_child(plan, uid, limits, job_cgroups, data, shell, fallback_dir, filter_) -> None:
    try:
        if plan.namespaces:
            syscalls.unshare(
                syscalls.CLONE_NEWNS
                | syscalls.CLONE_NEWNET
                | syscalls.CLONE_NEWIPC
                | syscalls.CLONE_NEWUTS
            )
        workdir = sandbox.prepare(plan, uid, limits, job_cgroups, fallback_dir)
        # A standby sandbox waits here, still privileged but running only our code, until the
        # host sends a request (or closes the socket, which ends it the same way).
        select.select([data], [], [])
        sandbox.confine(plan, uid, limits, workdir, data.fileno(), filter_)
        kernel = os.fork()
    except BaseException as exc:
        try:
            protocol.send(data, {"t": "fatal", "detail": f"sandbox setup failed: {exc!r}"})
        finally:
            os._exit(71)
    if kernel == 0:
        executor.serve(
            shell, data, limits.output, workdir, after_files=lambda: sandbox.limit_file_size(limits)
        )
    data.close()
    _init(kernel)


def _init(kernel: int) -> None:
    """Pid 1 of the sandbox: forwards interrupts to the kernel process, reaps orphans, and exits
    with the kernel's status (encoded like a shell: 128 + signal). Its exit makes the kernel of
    the OS kill everything else in the namespace.

    The kernel process itself is not pid 1, so signals (SIGXCPU, SIGTERM...) act on it normally.
    """
    signal.signal(signal.SIGINT, lambda signum, frame: _signal(kernel, signal.SIGINT))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code & 0x7F if code >= 0 else 128 + (-code))


def _watch(ctl: socket.socket, pid: int) -> int:
    """Relay the host's requests to the sandbox until it exits; return its wait status."""
    pidfd = os.pidfd_open(pid)
    reader = protocol.FrameReader(1 << 16)
    watched = [ctl, pidfd]
    while True:
        ready, _, _ = select.select(watched, [], [])
        if pidfd in ready:
            break
        try:
            chunk = ctl.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:
            _signal(pid, signal.SIGKILL)  # the host is gone: nobody wants this run any more
            watched = [pidfd]
            continue
        for message in reader.feed(chunk):
            if message["t"] == "interrupt":
                _signal(pid, signal.SIGINT)
            elif message["t"] == "kill":
                _signal(pid, signal.SIGKILL)
    os.close(pidfd)
    return os.waitpid(pid, 0)[1]


def _kill_group(pgid: int) -> None:
    # Without a pid namespace, what the run started is found by its process group (best effort:
    # a process that called setsid() escapes it; the pids cgroup, where present, does not).
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else [])
