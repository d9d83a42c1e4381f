"""Generate data/windows.csv: 6-hour windows of five machines (mean vibration, temperature) and
whether the machine failed in the next 24 hours (generated here, never downloaded). Run from this
folder:

    python make_data.py
"""

import csv
import random
from datetime import datetime, timedelta

MACHINES = ["press-01", "press-02", "cnc-03", "robot-04", "pump-05"]


def main(seed: int = 24) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 2, 1)
    with open("data/windows.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["machine_id", "window_start", "vibration", "temperature", "failed_24h"])
        for machine in MACHINES:
            wear = 0.0
            for step in range(120):
                wear = 0.0 if wear > 1.0 else wear + rng.uniform(0.0, 0.03)
                vibration = round(2.0 + 3.0 * wear + rng.gauss(0, 0.3), 3)
                temperature = round(45 + 10 * wear + rng.gauss(0, 1.0), 2)
                failed = int(wear > 0.85)
                when = (start + timedelta(hours=6 * step)).strftime("%Y-%m-%dT%H:%M")
                writer.writerow([machine, when, vibration, temperature, failed])


if __name__ == "__main__":
    main()
