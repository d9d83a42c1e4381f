"""Generate data/offices.csv and data/requests.csv: requests citizens filed at the offices of a
regional administration (generated here, never downloaded). Run from this folder:

    python make_data.py
"""

import csv
import random
from datetime import date, timedelta

OFFICES = [
    (1, "Rabat Agdal", "Rabat-Salé-Kénitra"),
    (2, "Salé Tabriquet", "Rabat-Salé-Kénitra"),
    (3, "Kénitra Centre", "Rabat-Salé-Kénitra"),
    (4, "Casablanca Maarif", "Casablanca-Settat"),
    (5, "Settat Ville", "Casablanca-Settat"),
    (6, "Fès Médina", "Fès-Meknès"),
    (7, "Meknès Hamria", "Fès-Meknès"),
    (8, "Agadir Talborjt", "Souss-Massa"),  # opened this year: no request yet
]
KINDS = ["birth certificate", "residence certificate", "building permit", "business licence"]
DAYS_TO_CLOSE = {
    "birth certificate": 3,
    "residence certificate": 5,
    "building permit": 40,
    "business licence": 20,
}


def main(seed: int = 15) -> None:
    rng = random.Random(seed)
    with open("data/offices.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["office_id", "name", "region"])
        writer.writerows(OFFICES)
    start = date(2025, 1, 6)
    with open("data/requests.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["request_id", "office_id", "kind", "opened_on", "closed_on"])
        for request_id in range(1, 241):
            office = rng.choice([1, 1, 2, 3, 4, 4, 4, 5, 6, 6, 7])
            roll = rng.random()
            if roll < 0.04:
                office = ""  # filed online, not routed to an office yet
            elif roll < 0.07:
                office = 12  # an office closed since, missing from the reference table
            kind = rng.choice(KINDS)
            opened = start + timedelta(days=rng.randrange(0, 150))
            took = max(1, round(rng.gauss(DAYS_TO_CLOSE[kind], DAYS_TO_CLOSE[kind] / 3)))
            closed = opened + timedelta(days=took)
            closed_on = "" if closed > date(2025, 6, 1) or rng.random() < 0.08 else closed
            writer.writerow([request_id, office, kind, opened, closed_on])


if __name__ == "__main__":
    main()
