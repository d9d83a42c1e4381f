"""An account's life cycle in admins' hands: invitation and reset links, disabling, roles,
deletion with export and anonymisation, a forced password change, and the audit log."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from lms.models import AccountLink, User, UserRole, utcnow
from lms.models.audit import AuditEvent
from lms.services import accounts, talent
from tests.conftest import PASSWORD, AuthActions


def _id(session, email: str) -> int:
    found = session.scalar(select(User.id).where(User.email == email))
    session.rollback()
    return found


def _link(html: str) -> str:
    found = re.search(r"<code>(https?://[^<]+/welcome/[^<]+)</code>", html)
    assert found, "no one-time link on the page"
    return found.group(1).split("localhost", 1)[1]


def test_invitation_link_works_once_and_is_stored_hashed(app, client, auth, users, session) -> None:
    auth.login(users.admin)
    page = auth.post(
        "/admin/", {"email": "new@example.org", "display_name": "New", "role": "instructor"}
    )
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    link = _link(page.get_data(as_text=True))
    token = link.rsplit("/", 1)[1]
    stored = session.scalars(select(AccountLink.token_sha256)).all()
    session.rollback()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64
    assert "session" not in page.headers.get("Set-Cookie", "") or token not in str(
        client.get_cookie("session").value
    )
    auth.logout()
    assert auth.login("new@example.org", "").status_code == 400  # no password yet
    visitor = app.test_client()
    helper = AuthActions(visitor)
    form = visitor.get(link)
    assert form.status_code == 200 and "Choose your password" in form.get_data(as_text=True)
    done = visitor.post(
        link,
        data={
            "new": "my own password",
            "confirm": "my own password",
            "csrf_token": helper.csrf_token_from(form.get_data(as_text=True)),
        },
    )
    assert done.status_code == 303
    assert helper.login("new@example.org", "my own password").status_code == 302
    assert visitor.get(link).status_code == 404  # spent


def test_an_expired_link_is_refused(app, client, auth, users, session) -> None:
    admin_id, trainee_id = _id(session, users.admin), _id(session, users.trainee)
    token = accounts.reset_link(session, trainee_id, admin_id)
    for row in session.scalars(select(AccountLink)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.get(f"/welcome/{token}")
    assert response.status_code == 404 and "expired" in response.get_data(as_text=True)
    assert client.get("/welcome/not-a-token").status_code == 404


def test_a_reset_link_replaces_the_password_and_ends_sessions(
    app, client, auth, users, session
) -> None:
    trainee = app.test_client()
    AuthActions(trainee).login(users.trainee)
    auth.login(users.admin)
    page = auth.post(f"/admin/users/{_id(session, users.trainee)}/reset-link")
    link = _link(page.get_data(as_text=True))
    helper = AuthActions(app.test_client())
    form = helper.client.get(link).get_data(as_text=True)
    helper.client.post(
        link,
        data={
            "new": "reset password 1",
            "confirm": "reset password 1",
            "csrf_token": helper.csrf_token_from(form),
        },
    )
    assert trainee.get("/learn").status_code == 302  # the old session is over
    assert helper.login(users.trainee, PASSWORD).status_code == 401
    assert helper.login(users.trainee, "reset password 1").status_code == 302


def test_disable_and_enable(app, client, auth, users, session) -> None:
    trainee = app.test_client()
    AuthActions(trainee).login(users.trainee)
    auth.login(users.admin)
    trainee_id = _id(session, users.trainee)
    assert auth.post(f"/admin/users/{trainee_id}/active", {"active": "no"}).status_code == 303
    assert trainee.get("/learn").status_code == 302
    assert AuthActions(app.test_client()).login(users.trainee).status_code == 401
    assert auth.post(f"/admin/users/{trainee_id}/active", {"active": "yes"}).status_code == 303
    assert AuthActions(app.test_client()).login(users.trainee).status_code == 302
    own = auth.post(f"/admin/users/{_id(session, users.admin)}/active", {"active": "no"})
    assert own.status_code == 403  # no admin locks themself out


def test_a_role_change_ends_the_sessions_of_the_old_role(app, client, auth, users, session) -> None:
    recruiter = app.test_client()
    AuthActions(recruiter).login(users.recruiter)
    assert recruiter.get("/recruiter/").status_code == 200
    auth.login(users.admin)
    recruiter_id = _id(session, users.recruiter)
    assert auth.post(f"/admin/users/{recruiter_id}/role", {"role": "trainee"}).status_code == 303
    assert recruiter.get("/recruiter/").status_code == 302  # signed out, not a recruiter now
    assert session.get(User, recruiter_id).role == UserRole.TRAINEE
    session.rollback()
    bad = auth.post(f"/admin/users/{recruiter_id}/role", {"role": "wizard"})
    assert bad.status_code == 400


def test_an_admin_chosen_password_must_be_changed_at_first_sign_in(
    app, client, auth, users, session
) -> None:
    auth.login(users.admin)
    page = auth.post(f"/admin/users/{_id(session, users.trainee)}/password")
    assert page.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", page.get_data(as_text=True)).group(1)
    assert password not in str(client.get_cookie("session").value)  # never flashed
    trainee = AuthActions(app.test_client())
    assert trainee.login(users.trainee, password).status_code == 302
    assert trainee.client.get("/learn").headers["Location"].endswith("/account/password")
    trainee.post(
        "/account/password",
        {"current": password, "new": "mine mine mine", "confirm": "mine mine mine"},
    )
    assert trainee.client.get("/learn").status_code == 200


def test_delete_exports_then_anonymises(app, client, auth, users, session, content) -> None:
    trainee_id = _id(session, users.trainee)
    talent.set_sharing(session, trainee_id, True)
    auth.login(users.admin)
    refused = auth.post(f"/admin/users/{trainee_id}/delete", {"confirm": "someone else"})
    assert refused.status_code == 400
    response = auth.post(f"/admin/users/{trainee_id}/delete", {"confirm": users.trainee})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    export = json.loads(response.get_data(as_text=True))
    assert export["account"]["email"] == users.trainee
    user = session.get(User, trainee_id)
    assert user.email == f"deleted-{trainee_id}@invalid" and not user.active
    assert user.anonymised_at is not None and user.display_name == ""
    assert not talent.is_shared(session, trainee_id)
    session.rollback()
    assert AuthActions(app.test_client()).login(users.trainee).status_code == 401
    lines = session.scalars(select(AuditEvent)).all()
    assert users.trainee not in json.dumps([(e.actor_email, e.subject_email) for e in lines])
    assert "account.delete" in {e.action for e in lines}


def test_the_audit_log_records_and_filters(app, client, auth, users, session, content) -> None:
    trainee_id = _id(session, users.trainee)
    auth.login(users.admin)
    auth.post(f"/admin/users/{_id(session, users.recruiter)}/role", {"role": "instructor"})
    auth.post("/admin/talent/cohorts", {"slug": "c1", "name": "C1"})
    cohort_id = talent.list_cohorts(session)[0][0].id
    session.rollback()
    auth.post(f"/admin/talent/cohorts/{cohort_id}/default", {"default_sharing": "yes"})
    talent.set_sharing(session, trainee_id, True)
    page = client.get("/admin/audit").get_data(as_text=True)
    for action in ("account.role", "cohort.ask", "consent.share"):
        assert f'data-action="{action}"' in page
    only_roles = client.get("/admin/audit?action=account.role").get_data(as_text=True)
    assert 'data-action="account.role"' in only_roles
    assert 'data-action="cohort.ask"' not in only_roles
    by_person = client.get(f"/admin/audit?person={users.trainee}").get_data(as_text=True)
    assert 'data-action="consent.share"' in by_person
    assert 'data-action="account.role"' not in by_person
    assert client.get("/admin/audit?since=yesterday").status_code == 400
    auth.logout()
    auth.login(users.instructor)
    assert client.get("/admin/audit").status_code == 403


def test_a_trainee_export_is_audited(session, users, client, auth, content) -> None:
    auth.login(users.trainee)
    assert client.get("/skills/my-data.json").status_code == 200
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "export.my_data" in actions


def test_api_tokens_expire(session, users) -> None:
    from lms.models.api_tokens import ApiToken
    from lms.services import api_tokens

    token, row = api_tokens.create_token(session, users.recruiter)
    assert row.expires_at > utcnow() + timedelta(days=80)
    assert api_tokens.user_for_token(session, token) is not None
    row = session.get(ApiToken, row.id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert api_tokens.user_for_token(session, token) is None
