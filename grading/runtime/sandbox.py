"""Turns a freshly forked, still-privileged child of the fork server into a sandbox.

In order: its own session, the job's cgroups, a private mount tree whose root is a new tmpfs
holding only read-only binds of the OS libraries and the Python installation (never the repo,
the app's instance folder, /root's other files or other jobs' directories), a fresh /proc for its
own pid namespace, size-capped tmpfs for /tmp and the working directory, loopback-only network,
rlimits, then an irreversible drop to the slot's unprivileged uid with no_new_privs, and an
environment built from nothing.

Run by root, the namespaces are created directly and the uid is dropped with setresuid. Run by
an ordinary user, the supervisor first enters a user namespace mapping the slot's uid onto that
user (the only mapping an unprivileged process may write); the sandbox then sets everything up
the same way and drops every capability instead of changing uid. No cgroups in that mode: the
pid namespace still ends every process, and RLIMIT_NPROC counts the namespace's own tasks.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import signal
import site
import sys
from dataclasses import dataclass

from grading.runtime import syscalls
from grading.runtime.cgroups import JobCgroups
from grading.runtime.limits import Limits
from grading.runtime.seccomp import Filter

WORKDIR = "/home/trainee"
HOSTNAME = "sandbox"

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# World-readable configuration the C library and Python read; nothing else of /etc is visible.
_ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "host.conf",
    "localtime",
    "timezone",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "mime.types",
    "locale.alias",
    "fonts",
    "os-release",
    "debian_version",
    "protocols",
    "services",
    "matplotlibrc",
)
_DEVICES = ("null", "zero", "full", "random", "urandom")


@dataclass(frozen=True)
class SandboxPlan:
    """What isolation the fork server found it can apply (decided once, at start)."""

    namespaces: bool
    drop_uid: bool
    userns: bool  # isolation from an unprivileged user namespace (no root needed)
    root_mountpoint: str
    scratch_dir: str
    python_paths: tuple[str, ...]
    address_space_base: int


def python_paths() -> tuple[str, ...]:
    """The directories the interpreter needs (prefixes, site-packages), outermost only."""
    candidates = {
        sys.base_prefix,
        sys.prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        *site.getsitepackages(),
    }
    existing = sorted(os.path.abspath(p) for p in candidates if os.path.isdir(p))
    chosen: list[str] = []
    for path in existing:
        if any(path == c or path.startswith(c + os.sep) for c in chosen):
            continue
        if any(path == d or path.startswith(d + os.sep) for d in _SYSTEM_DIRS):
            continue
        chosen.append(path)
    return tuple(chosen)


def base_environment(extra_path: str) -> dict[str, str]:
    """The sandbox's whole environment: no variable of the host survives."""
    return {
        "PATH": f"{extra_path}:/usr/local/bin:/usr/bin:/bin",
        "HOME": WORKDIR,
        "USER": "trainee",
        "LOGNAME": "trainee",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONIOENCODING": "utf-8",
        "NBGRADER_EXECUTION": "autograde",
        "MPLBACKEND": _MPLBACKEND,
        # What ipykernel's ZMQInteractiveShell.init_environment sets.
        "TERM": "xterm-color",
        "CLICOLOR": "1",
        "FORCE_COLOR": "1",
        "CLICOLOR_FORCE": "1",
        "PAGER": "cat",
        "GIT_PAGER": "cat",
        # One thread per BLAS/OpenMP pool: jobs run in parallel, one per core.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _matplotlib_backend() -> str:
    # What ipykernel sets (when matplotlib-inline, one of its dependencies, is installed).
    if importlib.util.find_spec("matplotlib_inline") is None:
        return "Agg"
    return "module://matplotlib_inline.backend_inline"


# Decided once, in the fork server.
_MPLBACKEND = _matplotlib_backend()


def prepare(
    plan: SandboxPlan, uid: int, limits: Limits, cgroups: JobCgroups, fallback_dir: str | None
) -> str:
    """The privileged, slow half (cgroup migration, mounts), done before a request exists so a
    standby sandbox is ready when one arrives; returns the working directory.

    Without namespaces (an operator's explicit unsafe opt-out) the working directory is
    `fallback_dir` on the host's disk, which the supervisor removes afterwards."""
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()
    cgroups.join()
    if plan.namespaces:
        _build_filesystem(plan, uid, limits)
        syscalls.loopback_up()
        syscalls.sethostname(HOSTNAME)
        return WORKDIR
    assert fallback_dir is not None
    os.mkdir(fallback_dir, 0o700)
    if plan.drop_uid:
        os.chown(fallback_dir, uid, uid)
    return fallback_dir


def confine(
    plan: SandboxPlan, uid: int, limits: Limits, workdir: str, keep_fd: int, filter_: Filter
) -> None:
    """The irreversible half: rlimits, the drop to `uid` (a fresh one per job), a new session
    keyring, the seccomp filter, an environment built from nothing, every inherited file
    descriptor but `keep_fd` closed."""
    _set_rlimits(plan, limits, with_memory_cap=True)
    if plan.drop_uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        # The uid change reset these two: the parent-death signal, and dumpability (which would
        # make /proc/self unreadable to the process itself).
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        syscalls.prctl(syscalls.PR_SET_DUMPABLE, 1)
    if plan.userns:
        # Already the slot's uid inside the user namespace, with every capability over it.
        syscalls.drop_capabilities()
    # A keyring of this job's own: the fork server's session keyring is not inherited, and the
    # filter below then refuses every keyring call (keys would outlive the job).
    syscalls.join_session_keyring()
    syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    filter_.load()
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(base_environment(os.path.dirname(sys.executable)))
    if not plan.namespaces:
        os.environ["HOME"] = workdir
    _close_fds_except(keep_fd)
    # Nothing of the host's stdio stays reachable (e.g. through /proc/1/fd): the kernel process
    # replaces 1 and 2 with its own capture pipes.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def limit_file_size(limits: Limits) -> None:
    """RLIMIT_FSIZE, applied by the sandbox once the exercise's own files are written (they may
    be larger than what trainee code may write)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))


def _set_rlimits(plan: SandboxPlan, limits: Limits, with_memory_cap: bool) -> None:
    cpu = limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    # One above pids.max, so that where the pids cgroup exists it refuses first and counts it.
    nproc = limits.processes + 1
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if with_memory_cap:
        # Address space = what the warm interpreter already maps + the allowance: an oversized
        # allocation raises MemoryError in the cell instead of waking the OOM killer.
        cap = plan.address_space_base + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _close_fds_except(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)


def _build_filesystem(plan: SandboxPlan, uid: int, limits: Limits) -> None:
    root = plan.root_mountpoint
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None)
    syscalls.mount(
        "tmpfs", root, "tmpfs", syscalls.MS_NOSUID | syscalls.MS_NODEV, "size=4m,mode=0755"
    )
    for path in _SYSTEM_DIRS:
        _expose(path, root)
    _populate_etc(root, uid)
    # /tmp and /home first: the interpreter may live below them (a venv in a CI checkout under
    # /tmp), and its read-only bind must land on top of the fresh tmpfs, not be hidden by it.
    _tmpfs(root + "/tmp", f"size={limits.tmp_bytes},mode=1777")
    os.makedirs(root + "/home", mode=0o755)
    for path in plan.python_paths:
        _bind_readonly(path, root + path)
    _populate_dev(root, limits)
    os.mkdir(root + "/proc")
    syscalls.mount(
        "proc",
        root + "/proc",
        "proc",
        syscalls.MS_NOSUID | syscalls.MS_NODEV | syscalls.MS_NOEXEC,
        None,
    )
    _tmpfs(root + WORKDIR, f"size={limits.workdir_bytes},mode=0700,uid={uid},gid={uid}")
    os.chdir(root)
    syscalls.pivot_root_here()
    _remount_readonly("/")


def probe_filesystem(root: str) -> None:
    """The mount operations a sandbox needs, tried once at start (raises OSError if refused)."""
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None)
    syscalls.mount("tmpfs", root, "tmpfs", syscalls.MS_NOSUID | syscalls.MS_NODEV, "size=64k")
    _bind_readonly("/usr", root + "/usr")
    os.mkdir(root + "/proc")
    syscalls.mount("proc", root + "/proc", "proc", syscalls.MS_NOSUID | syscalls.MS_NODEV, None)


def _tmpfs(target: str, options: str) -> None:
    os.makedirs(target, exist_ok=True)
    syscalls.mount("tmpfs", target, "tmpfs", syscalls.MS_NOSUID | syscalls.MS_NODEV, options)


def _expose(path: str, root: str) -> None:
    if os.path.islink(path):
        os.symlink(os.readlink(path), root + path)
    elif os.path.isdir(path):
        _bind_readonly(path, root + path)


def _bind_readonly(source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    syscalls.mount(source, target, None, syscalls.MS_BIND, None)
    _remount_readonly(target)


# statvfs f_flag bits -> the mount flags that must be repeated on a remount (inside a user
# namespace the kernel refuses a remount that would clear a flag the mount came with).
_KEPT_FLAGS = {
    os.ST_NOEXEC: syscalls.MS_NOEXEC,
    os.ST_NOATIME: syscalls.MS_NOATIME,
    os.ST_NODIRATIME: syscalls.MS_NODIRATIME,
    os.ST_RELATIME: syscalls.MS_RELATIME,
}


def _remount_readonly(target: str) -> None:
    current = os.statvfs(target).f_flag
    flags = syscalls.MS_REMOUNT | syscalls.MS_BIND | syscalls.MS_RDONLY
    flags |= syscalls.MS_NOSUID | syscalls.MS_NODEV
    for statvfs_bit, mount_flag in _KEPT_FLAGS.items():
        if current & statvfs_bit:
            flags |= mount_flag
    syscalls.mount(None, target, None, flags, None)


def _populate_etc(root: str, uid: int) -> None:
    etc = root + "/etc"
    os.mkdir(etc)
    for entry in _ETC_ENTRIES:
        source = "/etc/" + entry
        if os.path.islink(source):
            os.makedirs(os.path.dirname(etc + "/" + entry), exist_ok=True)
            os.symlink(os.readlink(source), etc + "/" + entry)
        elif os.path.exists(source):
            _bind_readonly(source, etc + "/" + entry)
    files = {
        "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"trainee:x:{uid}:{uid}:trainee:{WORKDIR}:/bin/sh\n",
        "group": f"root:x:0:\ntrainee:x:{uid}:\n",
        "hosts": f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n",
        "hostname": HOSTNAME + "\n",
    }
    for name, text in files.items():
        with open(f"{etc}/{name}", "w") as handle:
            handle.write(text)


def _populate_dev(root: str, limits: Limits) -> None:
    dev = root + "/dev"
    _tmpfs(dev, "size=64k,mode=0755")
    for name in _DEVICES:
        open(f"{dev}/{name}", "w").close()
        syscalls.mount("/dev/" + name, f"{dev}/{name}", None, syscalls.MS_BIND, None)
    os.mkdir(dev + "/pts")
    syscalls.mount(
        "devpts",
        dev + "/pts",
        "devpts",
        syscalls.MS_NOSUID | syscalls.MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=0620",
    )
    os.symlink("pts/ptmx", dev + "/ptmx")
    _tmpfs(dev + "/shm", f"size={limits.tmp_bytes},mode=1777")
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    _remount_readonly(dev)
