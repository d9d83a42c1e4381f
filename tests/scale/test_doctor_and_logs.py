"""`lms doctor` says what is wrong and exits non-zero; logs are JSON lines with the job id."""

from __future__ import annotations

import json
import logging

from click.testing import CliRunner

from lms.cli import main
from lms.migrations import upgrade
from lms.queue import joblog


def _doctor(monkeypatch, tmp_path, **env: str):
    database = f"sqlite:///{tmp_path / 'doctor.sqlite'}"
    monkeypatch.setenv("LMS_DATABASE_URL", database)
    monkeypatch.delenv("LMS_BROKER_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return database, lambda: CliRunner().invoke(main, ["doctor", "--timeout", "1"])


def test_doctor_names_an_unmigrated_database_and_the_fix(monkeypatch, tmp_path) -> None:
    database, doctor = _doctor(monkeypatch, tmp_path)
    result = doctor()
    assert result.exit_code == 1, result.output
    assert "[FAIL] database:" in result.output and "run `lms db upgrade`" in result.output
    assert "1 required check(s) failed." in result.output

    upgrade(database)
    result = doctor()
    assert result.exit_code == 0, result.output
    assert "[ok  ] database:" in result.output
    assert "[ok  ] broker: none: embedded queue" in result.output
    assert "[ok  ] sandbox:" in result.output
    assert "All required checks passed." in result.output


def test_doctor_reports_an_unreachable_broker(monkeypatch, tmp_path) -> None:
    database, doctor = _doctor(monkeypatch, tmp_path, LMS_BROKER_URL="redis://127.0.0.1:1/0")
    upgrade(database)
    result = doctor()
    assert result.exit_code == 1, result.output
    assert "[FAIL] broker: cannot reach redis://127.0.0.1:1/0" in result.output
    assert "start Redis or fix LMS_BROKER_URL" in result.output
    assert "[--  ] workers: not asked" in result.output


def test_worker_refuses_to_start_without_a_broker(monkeypatch) -> None:
    monkeypatch.delenv("LMS_BROKER_URL", raising=False)
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0 and "LMS_BROKER_URL is not set" in result.output


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("lms.test", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_log_lines_carry_the_job_id_of_the_context() -> None:
    formatter, tag = joblog.JsonFormatter(), joblog.JobIdFilter()
    with joblog.job_context(42):
        record = _record("graded", worker="w1")
        tag.filter(record)
        entry = json.loads(formatter.format(record))
    assert entry["job_id"] == 42 and entry["message"] == "graded" and entry["worker"] == "w1"
    assert entry["level"] == "INFO" and entry["host"] and entry["time"].endswith("+00:00")
    outside = _record("idle")
    tag.filter(outside)
    assert json.loads(formatter.format(outside))["job_id"] is None


def test_celery_task_lines_get_the_job_id_from_the_task_arguments() -> None:
    record = _record("Task received", data={"name": "lms.grade_job", "args": "[7]"})
    joblog.JobIdFilter().filter(record)
    assert record.job_id == 7
    text = joblog.TextFormatter().format(record)
    assert "[job 7] Task received" in text


def test_log_format_is_checked() -> None:
    assert isinstance(joblog.make_formatter("text"), joblog.TextFormatter)
    try:
        joblog.make_formatter("xml")
    except ValueError as error:
        assert "LMS_LOG_FORMAT" in str(error)
    else:
        raise AssertionError("an unknown format was accepted")
