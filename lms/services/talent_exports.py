"""Exports for recruiters: the candidate list as CSV (streamed, a row at a time), a candidate
report as PDF (fpdf2), kept per report version: the same report is drawn once."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator

from fpdf import FPDF

from lms.services.candidates import CandidateList, CandidateReport, CandidateRow

CSV_COLUMNS = ("email", "name", "role", "readiness", "low", "high", "status", "mark")


def candidates_csv(listing: CandidateList) -> Iterator[str]:
    """The candidate list as CSV, a line at a time: one row per candidate, one column per
    required skill. The values are read now (the database session may be gone by the time
    the lines are sent); only the formatting is left for later."""
    rows = [
        [*CSV_COLUMNS, *(f"skill:{s}" for s in listing.skills)],
        *(_csv_row(listing, row) for row in listing.rows),
    ]
    return _csv_lines(rows)


def _csv_row(listing: CandidateList, row: CandidateRow) -> list[str]:
    r = row.readiness
    masteries = {line.skill: line.mastery for line in r.skills}
    return [
        _safe(row.candidate.trainee.email),
        _safe(row.candidate.trainee.name),
        listing.role.id,
        f"{r.score:.4f}",
        f"{r.low:.4f}",
        f"{r.high:.4f}",
        r.status,
        row.mark.status.value if row.mark else "",
        *(f"{masteries[s]:.4f}" if s in masteries else "" for s in listing.skills),
    ]


def _csv_lines(rows: list[list[str]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _safe(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets: neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


class PdfCache:
    """The PDFs of recent report versions (a version: everything the PDF shows), thread-safe."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pdfs: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: str) -> bytes | None:
        """The PDF of this version, if kept."""
        with self._lock:
            found = self._pdfs.get(version)
            if found is not None:
                self._pdfs.move_to_end(version)
            return found

    def put(self, version: str, pdf: bytes) -> None:
        """Keep `pdf`, dropping the least recently used beyond `size`."""
        with self._lock:
            self._pdfs[version] = pdf
            while len(self._pdfs) > self.size:
                self._pdfs.popitem(last=False)

    def clear(self) -> None:
        """Forget every PDF."""
        with self._lock:
            self._pdfs.clear()


pdf_cache = PdfCache()


def report_version(report: CandidateReport) -> str:
    """A digest of everything the PDF shows: when the trainee's evidence, figures or name
    change (or the figures are brought up to a later moment), so does the version."""
    shown = (
        report.trainee,
        report.as_of,
        report.roles,
        report.readiness,
        report.skill_names,
        report.evidence,
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def report_pdf(report: CandidateReport) -> bytes:
    """A candidate's report as a PDF, drawn once per report version."""
    version = report_version(report)
    found = pdf_cache.get(version)
    if found is None:
        found = draw_report_pdf(report)
        pdf_cache.put(version, found)
    return found


def draw_report_pdf(report: CandidateReport) -> bytes:
    """A candidate's report as a PDF: per role the score and status, per skill the evidence."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0, 10, _latin1(f"Readiness report: {report.trainee.name}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        _latin1(f"{report.trainee.email} - as of {report.as_of:%Y-%m-%d %H:%M} UTC"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for role_id, result in report.readiness.items():
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(
            0,
            7,
            _latin1(
                f"{report.roles.get(role_id, role_id)}: {result.score:.0%} "
                f"[{result.low:.0%}-{result.high:.0%}], {result.status}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", "", 8)
        for reason in result.reasons:
            pdf.multi_cell(0, 4, _latin1(f"- {reason}"), new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(50, 22, 26, 18, 18, 22), text_align="LEFT") as table:
            table.row(["Skill", "Mastery", "Interval", "Target", "Critical", "Evidence"])
            for line in result.skills:
                table.row(
                    [
                        _latin1(report.skill_names.get(line.skill, line.skill)),
                        f"{line.mastery:.0%}",
                        f"{line.low:.0%}-{line.high:.0%}",
                        f"{line.target:.0%}",
                        "yes" if line.critical else "no",
                        str(len(line.mastery_detail.evidence)),
                    ]
                )
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Evidence", new_x="LMARGIN", new_y="NEXT")
    for skill, lines in report.evidence.items():
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 6, _latin1(report.skill_names.get(skill, skill)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 7)
        if not lines:
            pdf.cell(0, 4, "no evidence yet", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(col_widths=(50, 26, 12, 28, 20, 18, 14), text_align="LEFT") as table:
            table.row(["Exercise", "Cell", "Attempt", "Date", "Kind", "Score", "Weight"])
            for ev in lines:
                table.row(
                    [
                        _latin1(ev.exercise_title),
                        _latin1(ev.grade_id),
                        str(ev.attempt),
                        f"{ev.at:%Y-%m-%d %H:%M}",
                        ev.kind,
                        f"{ev.score:g}/{ev.max_score:g}",
                        f"{ev.weight:.2f}",
                    ]
                )
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1 only; anything else is replaced, never an error.
    return text.encode("latin-1", "replace").decode("latin-1")
