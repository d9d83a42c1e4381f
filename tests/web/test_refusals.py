"""A service's refusal reaches the person in their language, with the status for its kind."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from lms.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge, TooMany
from lms.i18n import N_
from lms.services import api_tokens
from lms.web.errors import STATUS_BY_KIND

REJECTED_FR = "Envoyez le fichier .ipynb enregistré depuis Jupyter."
REJECTED_EN = "Upload the .ipynb file you saved from Jupyter."


def _upload_form(client) -> dict:
    page = client.get("/exercises/squares").get_data(as_text=True)
    token = page.split('name="token" value="')[2].split('"')[0]
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    return {"csrf_token": csrf, "token": token, "origin": "upload", "action": "submit"}


def _upload_png(client, **headers):
    data = dict(_upload_form(client), notebook=(io.BytesIO(b"\x89PNG\r\n\x1a\n"), "photo.png"))
    return client.post(
        "/exercises/squares/submissions",
        data=data,
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.fixture
def french_trainee(client, auth, users, content):
    """A signed-in trainee who chose French."""
    auth.login(users.trainee)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    return auth


def test_a_french_trainee_sees_a_rejected_upload_in_french(client, french_trainee) -> None:
    page = _upload_png(client)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert REJECTED_FR in html and REJECTED_EN not in html
    script = _upload_png(client, Accept="application/json")
    assert script.status_code == 400
    assert REJECTED_FR in script.json["error"] and script.json["status"] == 400


def test_an_english_trainee_sees_the_same_refusal_in_english(client, auth, users, content) -> None:
    auth.login(users.trainee)
    html = _upload_png(client, **{"Accept-Language": "en"}).get_data(as_text=True)
    assert REJECTED_EN in html and REJECTED_FR not in html


def test_an_uncaught_refusal_gets_its_kind_status_and_a_french_page(
    client, auth, users, session
) -> None:
    # The view lets the service's NotFound through: the one handler renders it.
    auth.login(users.admin)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    response = auth.post("/admin/talent/cohorts/9999/default", {"default_sharing": "yes"})
    assert response.status_code == 404
    assert "Cette cohorte n" in response.get_data(as_text=True)
    script = auth.post(
        "/admin/talent/cohorts/9999/default",
        {"default_sharing": "yes"},
        headers={"Accept": "application/json"},
    )
    assert script.status_code == 404
    assert script.json == {"error": "Cette cohorte n'existe pas.", "status": 404}


def test_a_flashed_refusal_is_translated_and_filled_in(client, auth, users, session) -> None:
    auth.login(users.admin)
    client.post("/language", data={"locale": "fr", "csrf_token": auth.token("/learn")})
    page = auth.post(
        "/admin/talent/tokens", {"email": "ghost@example.org"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Aucun compte avec l&#39;adresse ghost@example.org." in page


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Invalid, 400),
        (Forbidden, 403),
        (NotFound, 404),
        (Conflict, 409),
        (TooLarge, 413),
        (TooMany, 429),
    ],
)
def test_each_kind_has_its_status(app: Flask, error: type[DomainError], status: int) -> None:
    @app.get("/refuse")
    def refuse():
        raise error(N_("There is no exercise %(slug)s."), slug="nope")

    response = app.test_client().get("/refuse", headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.json["error"] == "There is no exercise nope."


def test_every_kind_of_refusal_maps_to_a_status() -> None:
    kinds = {cls.kind for cls in DomainError.__subclasses__()}
    assert kinds == set(STATUS_BY_KIND)


def test_the_english_message_is_the_exception_text(session, users) -> None:
    # What the command line prints (it has no locale): the message with its parameters.
    with pytest.raises(NotFound) as refused:
        api_tokens.create_token(session, "ghost@example.org")
    assert str(refused.value) == "No account with e-mail ghost@example.org."
    assert refused.value.params == {"email": "ghost@example.org"}
    assert json.dumps(refused.value.params)  # plain values, nothing lazy or bound to Flask
