"""Generate data/alerts.csv: the anomaly score a model gave each 6-hour window of a machine's
vibration series, and whether the machine failed within 24 hours (generated here, never
downloaded). Run from this folder:

    python make_data.py
"""

import csv
import random
from datetime import datetime, timedelta

MACHINES = ["press-01", "press-02", "cnc-03", "cnc-04", "robot-05", "pump-06"]


def main(seed: int = 6) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    with open("data/alerts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["machine_id", "window_start", "anomaly_score", "failed_within_24h"])
        for step in range(100):
            for machine in MACHINES:
                failed = rng.random() < 0.06
                score = rng.betavariate(5, 2) if failed else rng.betavariate(2, 5)
                when = start + timedelta(hours=6 * step)
                writer.writerow(
                    [machine, when.strftime("%Y-%m-%dT%H:%M"), f"{score:.3f}", int(failed)]
                )


if __name__ == "__main__":
    main()
