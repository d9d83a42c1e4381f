"""Schemathesis drives every operation of /api/v1/openapi.json against the app: no input it can
generate from the document (ids, role ids, tokens) gets a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from lms.extensions import db
from lms.services import talent
from lms.services.api_tokens import create_token


@pytest.mark.parametrize("authorised", [True, False])
def test_no_server_error_on_any_operation(app, world, authorised: bool) -> None:
    with app.app_context():
        talent.set_sharing(db.session, world.trainee_id, True)
        token, _row = create_token(db.session, "recruiter@example.org")
    headers = {"Authorization": f"Bearer {token}"} if authorised else {}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
