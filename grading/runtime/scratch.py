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

PREFIX = "atlas-runtime-"


@dataclass(frozen=True)
class Scratch:
    """A scratch folder and the open descriptor whose lock makes it ours."""

    path: str
    fd: int

    def remove(self) -> None:
        """Delete the folder, then let go of its lock (at the end of the fork server)."""
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self.fd)


def create(base: str | None = None) -> Scratch:
    """A new folder under `base` (the temporary directory), locked by this process."""
    base = base or tempfile.gettempdir()
    while True:
        path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        # Blocking: a cleaner that took the lock of this brand-new, still unlocked folder
        # deletes it and lets go; the check below then sees it gone and we make another.
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                os.chmod(path, 0o711)
                return Scratch(path, fd)
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale(base: str | None = None) -> list[str]:
    """Remove the scratch folders under `base` whose lock is free (their fork server is gone);
    return their paths. A folder whose lock another process holds is never touched."""
    base = base or tempfile.gettempdir()
    removed = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if not name.startswith(PREFIX) or os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # held: a live fork server's (in whatever pid namespace)
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)  # removed while we hold its lock
            removed.append(path)
        finally:
            os.close(fd)
    return removed
