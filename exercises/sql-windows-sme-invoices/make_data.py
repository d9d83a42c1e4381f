"""Generate data/customers.csv and data/invoices.csv: a year of invoices in Moroccan dirhams
(MAD) of a small IT-services company (generated here, never downloaded). Run from this folder:

    python make_data.py
"""

import csv
import random
from datetime import date, timedelta

CUSTOMERS = [
    ("atlas-textile", "Casablanca", "industry"),
    ("dar-el-bahja", "Marrakech", "hospitality"),
    ("souss-agri", "Agadir", "agriculture"),
    ("tanja-logistique", "Tanger", "logistics"),
    ("rabat-conseil", "Rabat", "services"),
    ("oasis-dattes", "Agadir", "agriculture"),
    ("cafe-hafa", "Tanger", "hospitality"),
    ("mecanique-sbai", "Casablanca", "industry"),
    ("clinique-annour", "Rabat", "health"),
    ("riad-zitoun", "Marrakech", "hospitality"),
]


def main(seed: int = 2025) -> None:
    rng = random.Random(seed)
    with open("data/customers.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["customer", "city", "sector"])
        writer.writerows(CUSTOMERS)
    rows = []
    for invoice_id in range(1, 181):
        customer = rng.choice(CUSTOMERS)[0]
        issued = date(2025, 1, 2) + timedelta(days=rng.randrange(0, 40) * 7)  # on Thursdays
        amount = round(rng.choice([1200, 2500, 4800, 9600, 15000]) * rng.uniform(0.8, 1.3), 2)
        late = {"hospitality": 45, "agriculture": 60}.get(
            next(c[2] for c in CUSTOMERS if c[0] == customer), 30
        )
        paid = issued + timedelta(days=max(0, round(rng.gauss(late, 12))))
        paid_on = "" if paid > date(2025, 11, 30) or rng.random() < 0.05 else paid
        rows.append([invoice_id, customer, issued, f"{amount:.2f}", paid_on])
    with open("data/invoices.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["invoice_id", "customer", "issued_on", "amount_mad", "paid_on"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
