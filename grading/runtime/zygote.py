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
import tempfile
import traceback

from grading.runtime import cgroups, executor, protocol, sandbox, syscalls
from grading.runtime.limits import Limits


def main(control_fd: int, preload: list[str]) -> None:
    """Serve spawn requests on `control_fd` until the host closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=control_fd)
    scratch = tempfile.mkdtemp(prefix="atlas-runtime-")
    os.chmod(scratch, 0o711)
    os.environ["HOME"] = os.environ["IPYTHONDIR"] = os.path.join(scratch, "home")
    os.mkdir(os.environ["HOME"], 0o700)
    loaded = _preload(preload)
    executor.warm_up()
    shell = executor.build_shell()
    plan, report = _probe(scratch)
    parents = cgroups.create_parents(str(os.getpid())) if plan.drop_uid else {}
    report["cgroups"] = sorted(parents)
    report["preloaded"] = loaded
    control.send(json.dumps({"t": "hello", "pid": os.getpid(), "isolation": report}).encode())
    try:
        _serve(control, shell, plan, parents)
    finally:
        cgroups.remove_parents(parents)
        shutil.rmtree(scratch, ignore_errors=True)


def _preload(modules: list[str]) -> list[str]:
    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional library that is absent or broken
            continue
        loaded.append(name)
    return loaded


def _probe(scratch: str) -> tuple[sandbox.SandboxPlan, dict]:
    """Find out, in a throwaway child, whether namespaces and mounts work here."""
    root_mountpoint = os.path.join(scratch, "root")
    os.mkdir(root_mountpoint, 0o755)
    jobs = os.path.join(scratch, "jobs")
    os.mkdir(jobs, 0o711)
    is_root = os.geteuid() == 0
    namespaces = False
    if is_root:
        pid = os.fork()
        if pid == 0:
            try:
                syscalls.unshare(syscalls.CLONE_NEWPID)
                syscalls.unshare(
                    syscalls.CLONE_NEWNS | syscalls.CLONE_NEWNET | syscalls.CLONE_NEWIPC
                    | syscalls.CLONE_NEWUTS
                )
                syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None)
                syscalls.mount("tmpfs", root_mountpoint, "tmpfs", 0, "size=64k")
                syscalls.loopback_up()
            except BaseException:  # noqa: BLE001
                os._exit(1)
            os._exit(0)
        namespaces = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    plan = sandbox.SandboxPlan(
        namespaces=namespaces,
        drop_uid=is_root,
        root_mountpoint=root_mountpoint,
        scratch_dir=jobs,
        python_paths=sandbox.python_paths(),
        address_space_base=_address_space() + (256 << 20),
    )
    report = {
        "uid_drop": is_root,
        "namespaces": ["mount", "pid", "net", "ipc", "uts"] if namespaces else [],
        "filesystem": "private tmpfs root, read-only OS and Python binds" if namespaces
        else "shared host filesystem",
        "python_paths": list(plan.python_paths),
        "rlimits": ["AS", "CPU", "FSIZE", "NOFILE", "NPROC", "CORE"],
        "no_new_privs": True,
    }
    return plan, report


def _address_space() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _serve(control: socket.socket, shell, plan: sandbox.SandboxPlan, parents) -> None:
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
                _supervise(spec, fds, control, shell, plan, parents)
            except BaseException:  # noqa: BLE001 - a supervisor must never return into the loop
                traceback.print_exc()
            os._exit(1)
        for fd in fds:
            os.close(fd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _supervise(spec, fds, control, shell, plan: sandbox.SandboxPlan, parents) -> None:
    control.close()
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    ctl = socket.socket(fileno=fds[0])
    data = socket.socket(fileno=fds[1])
    limits = Limits.from_json(spec["limits"])
    uid = int(spec["uid"])
    job_cgroups = cgroups.JobCgroups.create(
        parents, f"job-{spec['job']}", limits.memory_bytes, limits.processes
    )
    fallback_dir = None
    if not plan.namespaces:
        fallback_dir = os.path.join(plan.scratch_dir, f"job-{spec['job']}")
    try:
        if plan.namespaces:
            # Only children enter a new pid namespace: the sandbox becomes its pid 1, and when
            # it dies the kernel kills every process it left behind.
            syscalls.unshare(syscalls.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            ctl.close()
            _sandbox_child(plan, uid, limits, job_cgroups, data, shell, fallback_dir)
        data.close()
        protocol.send(ctl, {"t": "spawned", "pid": pid, "supervisor": os.getpid()})
        status = _watch(ctl, pid)
        report = job_cgroups.report()
    finally:
        job_cgroups.destroy()
        if fallback_dir:
            shutil.rmtree(fallback_dir, ignore_errors=True)
    code = os.waitstatus_to_exitcode(status)
    protocol.send(ctl, {"t": "exit", "code": code if code >= 0 else None,
                        "signal": -code if code < 0 else None, **report})
    os._exit(0)


def _sandbox_child(plan, uid, limits, job_cgroups, data, shell, fallback_dir) -> None:
    try:
        if plan.namespaces:
            syscalls.unshare(
                syscalls.CLONE_NEWNS | syscalls.CLONE_NEWNET | syscalls.CLONE_NEWIPC
                | syscalls.CLONE_NEWUTS
            )
        workdir = sandbox.enter(plan, uid, limits, job_cgroups, data.fileno(), fallback_dir)
    except BaseException as exc:  # noqa: BLE001
        try:
            protocol.send(data, {"t": "fatal", "detail": f"sandbox setup failed: {exc!r}"})
        finally:
            os._exit(71)
    executor.serve(shell, data, limits.output, workdir)


def _watch(ctl: socket.socket, pid: int) -> int:
    """Relay the host's requests to the sandbox until it exits; return its wait status."""
    pidfd = os.pidfd_open(pid)
    reader = protocol.FrameReader(1 << 16)
    watched = [ctl, pidfd]
    while True:
        ready, _, _ = select.select(watched, [], [])
        if pidfd in ready:
            break
        chunk = ctl.recv(4096)
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


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else [])
