"""`python -m grading.runtime`: print the isolation in force here (JSON), exit 1 if none."""

from __future__ import annotations

import json
import sys

from grading.runtime import close_runtime, isolation_report


def main() -> int:
    """Start the runtime, print its isolation report, stop it."""
    report = isolation_report()
    close_runtime()
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if report.get("sandboxed") or report.get("unsafe_opt_out") else 1


if __name__ == "__main__":
    sys.exit(main())
