"""The fork server's scratch folder: its own for as long as it lives, by a lock, not a pid.

Each fork server makes one folder under the temporary directory and holds an exclusive
`flock` on the folder itself until it ends (its supervisors inherit the descriptor, so a folder
stays held while a job it started still runs; the sandbox closes every descriptor it inherits,
so trainee code can neither release the lock nor reach the folder through it). A folder left by
a fork server that was killed is one whose lock anybody can take: only those are removed. A pid
would not do: fork servers in other pid namespaces sharing /tmp have pids this one cannot see
(or sees belonging to someone else).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass

PREFIX = "atlas-scratch-"
# Folders of fork servers from before the lock (no lock held): their pid in the name is all
# there is, so they are removed by the old rule, only when no process has that pid here.
LEGACY_PREFIX = "atlas-runtime-"


@dataclass(frozen=True)
class Scratch:
    """A scratch folder and the open descriptor whose lock makes it ours."""

    path: str
    fd: int

    def remove(self) -> None:
        """Delete the folder, then let go of its lock (at the end of the fork server)."""
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self.fd)


def hold(path: str) -> int | None:
    """Lock the folder this process just made; its descriptor, or None if a cleaner removed it
    first (the caller makes another)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    # Blocking: a cleaner that took the lock of this brand-new, still unlocked folder deletes
    # it and lets go; the check below then sees it gone.
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except FileNotFoundError:
        pass
    os.close(fd)
    return None


def take_if_free(path: str) -> int | None:
    """The folder's descriptor with its lock, if no live process holds it; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)  # held: a live fork server's (in whatever pid namespace)
        return None
    return fd


def create(base: str | None = None) -> Scratch:
    """A new folder under `base` (the temporary directory), locked by this process."""
    base = base or tempfile.gettempdir()
    while True:
        path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
        fd = hold(path)
        if fd is not None:
            os.chmod(path, 0o711)
            return Scratch(path, fd)


def remove_stale(base: str | None = None) -> list[str]:
    """Remove the scratch folders under `base` whose lock is free (their fork server is gone);
    return their paths. A folder whose lock another process holds is never touched."""
    base = base or tempfile.gettempdir()
    removed = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        if name.startswith(LEGACY_PREFIX):
            owner = name.removeprefix(LEGACY_PREFIX).split("-")[0]
            if owner.isdigit() and not process_alive(int(owner)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
            continue
        if not name.startswith(PREFIX):
            continue
        fd = take_if_free(path)
        if fd is None:
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)  # removed while we hold its lock
            removed.append(path)
        finally:
            os.close(fd)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (in this pid namespace)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
