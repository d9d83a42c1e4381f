"""Generate data/routed_requests.csv: messages citizens sent to a municipality (in French or
Arabic), the department that should handle each, and the department a routing model chose
(generated here, never downloaded). Run from this folder:

    python make_data.py
"""

import csv
import random

TEMPLATES = {
    "civil_status": [
        "Je voudrais un extrait d'acte de naissance pour mon fils",
        "Demande de copie intégrale d'acte de mariage",
        "أريد نسخة من عقد الازدياد",
        "طلب شهادة الحياة",
    ],
    "urbanism": [
        "Où en est mon permis de construire déposé en mars ?",
        "Autorisation de travaux pour une extension de maison",
        "طلب رخصة البناء",
        "استفسار عن تصميم التهيئة",
    ],
    "roads": [
        "Un nid-de-poule dangereux devant l'école",
        "L'éclairage public est en panne dans ma rue",
        "حفرة كبيرة في الطريق",
        "الإنارة العمومية معطلة في الحي",
    ],
    "taxes": [
        "Je conteste le montant de la taxe d'habitation",
        "Comment payer la taxe sur les services communaux en ligne ?",
        "استفسار عن ضريبة السكن",
        "أداء الرسوم الجماعية",
    ],
}
# How often the model sends a message of each department elsewhere, and where.
CONFUSION = {
    "civil_status": {"civil_status": 0.9, "taxes": 0.1},
    "urbanism": {"urbanism": 0.7, "roads": 0.25, "taxes": 0.05},
    "roads": {"roads": 0.85, "urbanism": 0.15},
    "taxes": {"taxes": 0.8, "civil_status": 0.2},
}
SHARE = {"civil_status": 0.4, "urbanism": 0.15, "roads": 0.3, "taxes": 0.15}


def main(seed: int = 212) -> None:
    rng = random.Random(seed)
    with open("data/routed_requests.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["request_id", "text", "department", "predicted"])
        departments = list(SHARE)
        for request_id in range(1, 401):
            true = rng.choices(departments, weights=[SHARE[d] for d in departments])[0]
            options = CONFUSION[true]
            predicted = rng.choices(list(options), weights=list(options.values()))[0]
            writer.writerow([request_id, rng.choice(TEMPLATES[true]), true, predicted])


if __name__ == "__main__":
    main()
