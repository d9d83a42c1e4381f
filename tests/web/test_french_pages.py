"""On the shipped content, a French-speaking trainee and recruiter read French everywhere: every
page they can reach is searched for English sentences left over (words that French never uses),
outside code, which stays as written."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import Course, Exercise, Lesson, Module, Role, User
from lms.services import talent
from lms.services.content_import import import_content

ROOT = Path(__file__).resolve().parents[2]
# Words of English sentences that no French sentence contains.
ENGLISH = re.compile(
    r"\b(the|and|of|your|you|with|this|that|which|will|should|from|when|each|every|"
    r"must|has|have|into|only|than|then|these|those|what|where|who|why|how)\b",
    re.IGNORECASE,
)
HIDDEN = re.compile(r"<(script|style|pre|code|textarea|svg)\b.*?</\1>", re.DOTALL | re.IGNORECASE)


def visible_text(page: str) -> str:
    """What a reader sees of a page: no markup, no code, no e-mail addresses."""
    text = re.sub(r"<[^>]+>", " ", HIDDEN.sub(" ", page))
    text = html_lib.unescape(text)
    return re.sub(r"\S+@\S+", " ", text)


def english_left(page: str) -> list[str]:
    """The places where English is left on a page (a few words of context each)."""
    text = visible_text(page)
    return [
        " ".join(text[max(0, m.start() - 40) : m.end() + 40].split())
        for m in ENGLISH.finditer(text)
    ]


def test_the_detector_finds_english_and_spares_french_and_code() -> None:
    assert english_left("<p>Write the function</p>")
    assert not english_left("<p>Écrivez la fonction <code>the_and_of()</code></p>")
    assert not english_left("<pre>for x in the_list: pass</pre><p>Très bien</p>")


@pytest.fixture
def shipped(app, session):
    import_content(session, ROOT)
    return session


def _french(client, auth, email: str) -> None:
    auth.login(email)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/")})


def _check(client, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        if left := english_left(response.get_data(as_text=True)):
            found[path] = left[:3]
    return found


def test_a_french_trainee_reads_french_on_every_page(client, auth, users, shipped) -> None:
    paths = ["/learn", "/skills/"]
    for course in shipped.scalars(select(Course)):
        paths.append(f"/courses/{course.slug}")
        for module in shipped.scalars(select(Module).where(Module.course_id == course.id)):
            for lesson in shipped.scalars(select(Lesson).where(Lesson.module_id == module.id)):
                paths.append(f"/courses/{course.slug}/{module.slug}/{lesson.slug}")
    paths += [f"/exercises/{slug}" for slug in shipped.scalars(select(Exercise.slug))]
    shipped.rollback()  # SQLite: end the read before the requests write
    _french(client, auth, users.trainee)
    assert _check(client, paths) == {}


def test_a_french_recruiter_reads_french_on_every_page(client, auth, users, shipped) -> None:
    trainee = shipped.scalar(select(User).where(User.email == users.trainee))
    talent.set_sharing(shipped, trainee.id, True)
    roles = list(shipped.scalars(select(Role.id)))
    paths = ["/recruiter/"]
    paths += [f"/recruiter/roles/{r}/pipeline" for r in roles]
    paths += [f"/recruiter/roles/{r}/candidates" for r in roles]
    paths += [f"/recruiter/candidates/{trainee.id}"]
    shipped.commit()
    _french(client, auth, users.recruiter)
    assert _check(client, paths) == {}
