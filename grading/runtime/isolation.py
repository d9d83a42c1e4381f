"""What isolation the host offers, and the refusal to run without any."""

from __future__ import annotations

import logging
import os
from typing import Any

UNSAFE_ENV = "LMS_UNSAFE_NO_SANDBOX"

log = logging.getLogger(__name__)


class SandboxUnavailable(Exception):
    """No isolation is available here and the operator did not opt out explicitly."""


def unsafe_opt_out() -> bool:
    """Whether the operator set LMS_UNSAFE_NO_SANDBOX=1 (run trainee code without namespaces)."""
    return os.environ.get(UNSAFE_ENV) == "1"


def describe(probe: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """The isolation report for `lms doctor`, from the fork server's probe and the limits."""
    sandboxed = bool(probe.get("namespaces")) and (
        bool(probe.get("uid_drop")) or bool(probe.get("user_namespace"))
    )
    return {
        "sandboxed": sandboxed,
        "unsafe_opt_out": not sandboxed and unsafe_opt_out(),
        "uid_drop": probe.get("uid_drop", False),
        "user_namespace": probe.get("user_namespace", False),
        "namespaces": probe.get("namespaces", []),
        "filesystem": probe.get("filesystem"),
        "cgroups": probe.get("cgroups", []),
        "cgroup_version": probe.get("cgroup_version"),
        "rlimits": probe.get("rlimits", []),
        "no_new_privs": probe.get("no_new_privs", False),
        "python_paths_visible": probe.get("python_paths", []),
        "preloaded": probe.get("preloaded", []),
        "limits": limits,
    }


def check(report: dict[str, Any]) -> None:
    """Refuse (SandboxUnavailable) unless fully sandboxed or explicitly opted out, loudly."""
    if report["sandboxed"]:
        return
    if report["unsafe_opt_out"]:
        log.warning(
            "%s=1: trainee code runs WITHOUT namespaces%s. Never do this with real submissions.",
            UNSAFE_ENV,
            "" if report["uid_drop"] else " and as YOUR user",
        )
        return
    raise SandboxUnavailable(
        "No sandbox is available on this host: it needs either root (mount/pid/network "
        "namespaces and a uid drop) or unprivileged user namespaces that allow mounts; found "
        f"uid_drop={report['uid_drop']}, namespaces={report['namespaces'] or 'none'}. Run the "
        "grader as root (e.g. in its container, with CAP_SYS_ADMIN), enable user namespaces "
        f"(sysctl kernel.unprivileged_userns_clone=1 / AppArmor), or set {UNSAFE_ENV}=1 to run "
        "trainee code unsandboxed at your own risk."
    )
