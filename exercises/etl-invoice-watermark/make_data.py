"""Generate the ERP extracts of data/: the invoices in MAD of a family-run furniture maker, then a
day of changes (new invoices, corrected amounts, cancellations, deletions) (generated here, never
downloaded). Run from this folder:

    python make_data.py
"""

import csv
import random
from datetime import datetime, timedelta

HEADER = ["invoice_id", "customer", "amount_mad", "status", "updated_at", "deleted"]
CUSTOMERS = ["hotel-atlas", "riad-dar-zaman", "ecole-al-amal", "cafe-la-corniche", "bureau-nour"]


def main(seed: int = 12) -> None:
    rng = random.Random(seed)
    day1 = datetime(2025, 9, 1, 8, 0)
    rows = {}
    for invoice_id in range(1, 61):
        when = day1 + timedelta(minutes=rng.randrange(0, 600))
        amount = round(rng.uniform(800, 24000), 2)
        rows[invoice_id] = [invoice_id, rng.choice(CUSTOMERS), amount, "issued", when, 0]
    with open("data/erp_invoices.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for row in rows.values():
            writer.writerow([*row[:4], row[4].strftime("%Y-%m-%d %H:%M:%S"), row[5]])
    day2 = day1 + timedelta(days=1)
    changes = []
    for invoice_id in rng.sample(sorted(rows), 18):
        when = day2 + timedelta(minutes=rng.randrange(0, 600))
        kind = rng.choice(["paid", "paid", "corrected", "cancelled", "deleted"])
        row = list(rows[invoice_id])
        if kind == "corrected":
            row[2] = round(row[2] * 0.9, 2)
        elif kind == "deleted":
            row[5] = 1
        else:
            row[3] = kind
        row[4] = when
        changes.append(row)
    for invoice_id in range(61, 71):
        when = day2 + timedelta(minutes=rng.randrange(0, 600))
        changes.append(
            [
                invoice_id,
                rng.choice(CUSTOMERS),
                round(rng.uniform(800, 24000), 2),
                "issued",
                when,
                0,
            ]
        )
    changes.sort(key=lambda r: r[4])
    with open("data/erp_changes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for row in changes:
            writer.writerow([*row[:4], row[4].strftime("%Y-%m-%d %H:%M:%S"), row[5]])


if __name__ == "__main__":
    main()
