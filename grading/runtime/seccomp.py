"""The sandbox's seccomp filter: the system calls trainee code never needs, refused by the kernel.

Built with libseccomp through `pyseccomp` (a ctypes binding to the system's libseccomp2 with the
API of libseccomp's own Python module, which Debian ships only for its system interpreter and
which does not install into a virtualenv from PyPI). The filter is compiled once in the fork
server and loaded by each sandbox after its uid drop and no_new_privs, before any trainee code:

- keyctl, add_key, request_key: the kernel keyrings outlive a process (a key one job stores in
  its uid's keyring would be there for the next job with that uid);
- unshare, setns, clone/clone3 with CLONE_NEWUSER: user namespaces hand out capabilities;
- ptrace, process_vm_readv/writev, kcmp: reading or steering another process;
- bpf, perf_event_open, userfaultfd, io_uring_*: large kernel attack surface, no exercise use;
- mount, umount2, pivot_root, swapon/off, init/finit/delete_module, kexec_*, reboot...

Refused calls fail with EPERM (clone3 with ENOSYS, so the C library falls back to clone, whose
flags the filter can inspect); a program sees an ordinary error rather than being killed.
Calls from another ABI (i386 `int 0x80`, x32) are killed: the filter admits the native ABI only.
"""

from __future__ import annotations

import errno
from typing import Any

CLONE_NEWUSER = 0x10000000

DENIED = (
    "keyctl",
    "add_key",
    "request_key",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "swapon",
    "swapoff",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "acct",
    "open_by_handle_at",
)


class Filter:
    """A compiled filter (or the reason there is none); `load()` installs it in this process."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.denied: list[str] = []
        self._filter: Any = None
        try:
            import pyseccomp
        except (ImportError, OSError) as exc:  # the module, or libseccomp.so.2, is missing
            self.reason = f"libseccomp is not available: {exc}"
            return
        try:
            self._filter = _build(pyseccomp, self.denied)
        except (OSError, RuntimeError, ValueError) as exc:
            self.reason = f"the seccomp filter could not be built: {exc}"

    @property
    def available(self) -> bool:
        """Whether a filter was built (and so will be loaded into every sandbox)."""
        return self._filter is not None

    def load(self) -> None:
        """Install the filter in the calling process (irreversible; needs no_new_privs)."""
        if self._filter is not None:
            self._filter.load()

    def report(self) -> dict[str, Any]:
        """What `lms doctor` and `python -m grading.runtime` show."""
        if self._filter is None:
            return {"enabled": False, "reason": self.reason}
        return {
            "enabled": True,
            "library": "libseccomp (pyseccomp)",
            "action": "EPERM",
            "denied": [*self.denied, "clone(CLONE_NEWUSER)", "clone3 (ENOSYS)"],
        }


def _build(seccomp: Any, denied: list[str]) -> Any:
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    refuse = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            rules.add_rule(refuse, name)
        except (OSError, RuntimeError, ValueError):
            continue  # not a system call on this architecture or libseccomp version
        denied.append(name)
    # clone's first argument holds the flags (x86_64, arm64): refuse a new user namespace.
    rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    # clone3 passes its flags in memory a filter cannot read: pretend it does not exist.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return rules
