"""Generate data/permit_events.jsonl: the status events of building permits, as a queue delivers
them at least once: some twice, some out of order, one malformed (generated here, never
downloaded). Run from this folder:

    python make_data.py
"""

import json
import random

STEPS = ["filed", "under_review", "site_visit", "approved"]


def main(seed: int = 8) -> None:
    rng = random.Random(seed)
    events = []
    for n in range(1, 26):
        permit = f"PC-2025-{n:04d}"
        steps = STEPS if rng.random() < 0.8 else [*STEPS[:2], "rejected"]
        for version, status in enumerate(steps[: rng.randint(1, len(steps))], start=1):
            events.append(
                {
                    "message_id": f"{permit}-v{version}",
                    "permit_id": permit,
                    "status": status,
                    "version": version,
                }
            )
    rng.shuffle(events)
    events.sort(key=lambda e: e["version"] + rng.random() * 1.6)  # mostly in order
    delivered = []
    for event in events:
        delivered.append(json.dumps(event))
        if rng.random() < 0.15:
            delivered.append(json.dumps(event))  # redelivered
    delivered.insert(len(delivered) // 2, '{"message_id": "PC-2025-0099-v1", "status": "filed"')
    with open("data/permit_events.jsonl", "w", encoding="utf-8") as f:
        f.write("\n".join(delivered) + "\n")


if __name__ == "__main__":
    main()
