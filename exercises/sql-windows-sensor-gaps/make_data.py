"""Generate data/readings.csv: the temperature of four kilns of a ceramics plant, read every 10
minutes, with the gaps a flaky gateway leaves (generated here, never downloaded). Run from this
folder:

    python make_data.py
"""

import csv
import random
from datetime import datetime, timedelta

KILNS = {"kiln-a": 880.0, "kiln-b": 910.0, "kiln-c": 860.0, "kiln-d": 895.0}


def main(seed: int = 10) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 4, 7, 6, 0)
    with open("data/readings.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["kiln_id", "ts", "temperature_c"])
        for kiln, base in KILNS.items():
            temp = base
            step = 0
            while step < 90:
                temp += rng.gauss(0, 4)
                when = start + timedelta(minutes=10 * step)
                writer.writerow([kiln, when.strftime("%Y-%m-%d %H:%M"), round(temp, 1)])
                step += rng.choice([1] * 12 + [2, 3, 5])  # sometimes readings are lost


if __name__ == "__main__":
    main()
