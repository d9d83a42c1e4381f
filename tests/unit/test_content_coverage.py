"""`lms content-coverage`: the evidence the shipped content offers per critical skill."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lms.cli import main
from lms.content import load_content
from lms.content.coverage import coverage

ROOT = Path(__file__).parents[2]


def test_every_critical_skill_has_practice_and_an_assessment() -> None:
    rows = coverage(load_content(ROOT))
    assert rows and all(row.practice and row.assessments for row in rows), [
        (row.role, row.skill) for row in rows if not (row.practice and row.assessments)
    ]
    # Every exercise of every critical skill is in French too.
    assert all(row.french == row.exercises for row in rows)


def test_variant_pools_are_counted() -> None:
    rows = {(row.role, row.skill): row for row in coverage(load_content(ROOT))}
    joins = rows[("data-engineer", "sql-joins")]
    assert "data-checkpoint-1" in joins.assessments
    # data-checkpoint-1 holds three variants; the other assessments one each.
    assert joins.assessment_variants == len(joins.assessments) + 2


def test_the_command_prints_one_line_per_critical_skill() -> None:
    result = CliRunner().invoke(main, ["content-coverage", "--root", str(ROOT)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:2] == ["role", "critical"]
    assert len(lines) - 1 == len(coverage(load_content(ROOT)))
