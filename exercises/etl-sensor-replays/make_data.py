"""Generate the gateway batches of data/: temperature and vibration readings of three machines of
a workshop, every 10 minutes (generated here, never downloaded). Run from this folder:

    python make_data.py

batch_1.csv covers 00:00-15:50; batch_2.csv covers 14:00-23:50 (the gateway replays the readings
of 14:00-15:50 after a reconnect, with their old sequence numbers) and corrects five earlier
readings (a recalibrated sensor: same machine and time, new values, higher sequence number);
batch_3.csv has a malformed reading in its middle.
"""

import csv
import math
import random
from datetime import datetime, timedelta

MACHINES = {"press-01": 61.0, "cnc-02": 48.0, "robot-03": 39.0}
HEADER = ["machine_id", "ts", "temperature_c", "vibration_mm_s", "seq"]


def readings(rng):
    start = datetime(2025, 3, 10)
    seq = 0
    out = []
    for step in range(144):
        ts = start + timedelta(minutes=10 * step)
        for machine, base in MACHINES.items():
            seq += 1
            warm = 4 * math.sin(step / 144 * 2 * math.pi)
            temp = round(base + warm + rng.gauss(0, 0.6), 1)
            vib = round(abs(rng.gauss(2.2 if machine != "press-01" else 3.5, 0.4)), 2)
            out.append([machine, ts.strftime("%Y-%m-%dT%H:%M"), temp, vib, seq])
    return out, seq


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)


def main(seed: int = 40) -> None:
    rng = random.Random(seed)
    rows, seq = readings(rng)
    first = [r for r in rows if r[1] < "2025-03-10T16:00"]
    second = [r for r in rows if r[1] >= "2025-03-10T14:00"]
    corrections = []
    for row in rng.sample([r for r in first if r[1] < "2025-03-10T14:00"], 5):
        seq += 1
        corrections.append([row[0], row[1], round(row[2] - 1.5, 1), row[3], seq])
    write("data/batch_1.csv", first)
    write("data/batch_2.csv", second + corrections)
    third = [
        ["press-01", "2025-03-11T00:00", 60.2, 3.4, seq + 1],
        ["cnc-02", "2025-03-11T00:00", 47.9, 2.1, seq + 2],
        ["robot-03", "2025-03-11T00:00", "n/a", 2.3, seq + 3],
        ["press-01", "2025-03-11T00:10", 60.4, 3.6, seq + 4],
    ]
    write("data/batch_3.csv", third)


if __name__ == "__main__":
    main()
