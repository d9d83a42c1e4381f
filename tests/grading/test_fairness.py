"""Slots are handed first come, first served: a caller that runs one job after another cannot
keep a caller that is already waiting from its turn."""

from __future__ import annotations

import threading
import time

from grading.runtime import RunRequest, Runtime

SLOW = RunRequest(cells=("import time\ntime.sleep(0.5)\n'a'",))
QUICK = RunRequest(cells=("'b'",))


def test_a_waiting_caller_gets_the_next_slot_not_the_busy_caller():
    finished: list[str] = []
    with Runtime(slots=1) as runtime:

        def busy() -> None:
            for _ in range(4):
                runtime.run(SLOW)
                finished.append("a")

        first = threading.Thread(target=busy)
        first.start()
        while runtime._free_slots:  # the busy caller holds the only slot
            time.sleep(0.01)
        second = threading.Thread(target=lambda: (runtime.run(QUICK), finished.append("b")))
        second.start()
        first.join()
        second.join()
    # The waiting caller is served as soon as the first run ends, before the busy caller's
    # second run (a condition variable alone lets the busy caller take the slot again).
    assert finished.index("b") <= 1, finished
