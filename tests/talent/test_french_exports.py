"""A French-speaking recruiter reads the pipeline, the report, its PDF and the CSV in French,
and a trainee's name prints as written, accents and Arabic letters included."""

from __future__ import annotations

import csv
import io
import re

from pypdf import PdfReader

from lms.models import User
from lms.services import talent
from lms.services.talent_exports import _font_files

NAME = "Zoé Benali ليلى"
ARABIC = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")


def _french_recruiter(client, auth, users, world, session) -> None:
    session.get(User, world.trainee_id).display_name = NAME
    session.commit()
    talent.set_sharing(session, world.trainee_id, True)
    talent.set_sharing(session, world.other_id, True)
    auth.login(users.recruiter)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/recruiter/")})


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_report_page_names_skills_roles_and_exercises_in_french(
    client, auth, users, world, session
) -> None:
    _french_recruiter(client, auth, users, world, session)
    html = client.get(f"/recruiter/candidates/{world.trainee_id}").get_data(as_text=True)
    assert "Bases de Python" in html and "Développeur junior" in html and "Carrés" in html
    assert "Évaluation" in html
    assert ">Python fundamentals<" not in html and ">Squares<" not in html
    pipeline = client.get("/recruiter/").get_data(as_text=True)
    assert "Développeur junior" in pipeline


def test_pdf_in_french_prints_every_name_as_written(
    client, auth, users, world, session, tmp_path
) -> None:
    assert _font_files() is not None, "DejaVu Sans ships with matplotlib, a dependency"
    _french_recruiter(client, auth, users, world, session)
    response = client.get(f"/recruiter/candidates/{world.trainee_id}/report.pdf")
    assert response.status_code == 200
    assert b"DejaVu" in response.data  # the Unicode font is embedded
    (tmp_path / "report-fr.pdf").write_bytes(response.data)  # to look at (pdftoppm)
    text = _pdf_text(response.data)
    assert "Rapport de préparation" in text and "Zoé Benali" in text
    assert ARABIC.search(text), text[:200]  # the Arabic letters are there, not "?"
    assert "Bases de Python" in text and "Compétence" in text and "Preuves" in text
    assert "Readiness report" not in text and "Mastery" not in text


def test_pdf_in_english_is_unchanged_in_meaning(client, auth, users, world, session) -> None:
    talent.set_sharing(session, world.trainee_id, True)
    auth.login(users.recruiter)
    text = _pdf_text(client.get(f"/recruiter/candidates/{world.trainee_id}/report.pdf").data)
    assert "Readiness report" in text and "Python fundamentals" in text and "Mastery" in text


def test_csv_header_in_french_values_stay_machine_readable(
    client, auth, users, world, session
) -> None:
    _french_recruiter(client, auth, users, world, session)
    text = client.get("/recruiter/roles/junior-dev/candidates.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:8] == [
        "courriel",
        "nom",
        "métier",
        "préparation",
        "bas",
        "haut",
        "statut",
        "suivi",
    ]
    assert "compétence:python-basics" in rows[0]
    mine = next(r for r in rows if r["courriel"] == users.trainee)
    assert mine["nom"] == NAME and mine["statut"] == "ready"  # a status id, as in English
    assert float(mine["préparation"]) > 0
