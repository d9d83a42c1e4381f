"""Exports for recruiters: the candidate list as CSV (streamed, a row at a time), a candidate
report as PDF (fpdf2), kept per report version and language: the same report is drawn once. Both
are in the reader's language (the web passes its gettext; services never import Flask)."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from fpdf import FPDF

from lms.i18n import N_
from lms.models import ExerciseKind
from lms.readiness import STATUS_LABELS
from lms.services.candidates import CandidateList, CandidateReport, CandidateRow

Translate = Callable[..., str]  # gettext(message, **params), in the reader's language

# The header, marked for translation; in English each is its column's id.
CSV_COLUMNS = (
    N_("email"),
    N_("name"),
    N_("role"),
    N_("readiness"),
    N_("low"),
    N_("high"),
    N_("status"),
    N_("mark"),
)


def candidates_csv(listing: CandidateList, translate: Translate | None = None) -> Iterator[str]:
    """The candidate list as CSV, a line at a time: one row per candidate, one column per
    required skill. The header is in the reader's language (in English it is the column ids
    scripts read); values stay machine-readable (status ids, ratios) in every language. Values
    and header are read now (the request and the database session may be gone by the time the
    lines are sent); only the formatting is left for later."""
    t = translate or _identity
    header = [t(column) for column in CSV_COLUMNS]
    header += [t(N_("skill:%(skill)s"), skill=s) for s in listing.skills]
    rows = [header, *(_csv_row(listing, row) for row in listing.rows)]
    return _csv_lines(rows)


def _csv_row(listing: CandidateList, row: CandidateRow) -> list[str]:
    r = row.readiness
    masteries = {line.skill: line.mastery for line in r.skills}
    return [
        safe_cell(row.candidate.trainee.email),
        safe_cell(row.candidate.trainee.name),
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


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    # A cell starting with = + - @ is run as a formula by spreadsheets: neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _identity(message: str, **params: object) -> str:
    return message % params if params else message


@cache
def _font_files() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold), from the installed matplotlib: a Unicode font covering Latin,
    Arabic and Tifinagh... so that every trainee's name prints as written. Found without
    importing matplotlib (slow to import, and not needed for anything else here)."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        fonts = Path(folder) / "mpl-data" / "fonts" / "ttf"
        regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


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


def report_version(report: CandidateReport, language: str = "en") -> str:
    """A digest of everything the PDF shows: when the trainee's evidence, figures or name
    change (or the figures are brought up to a later moment), or the language, so does the
    version."""
    shown = (
        language,
        report.trainee,
        report.as_of,
        report.roles,
        report.readiness,
        report.skill_names,
        report.evidence,
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def report_pdf(
    report: CandidateReport, translate: Translate = _identity, language: str = "en"
) -> bytes:
    """A candidate's report as a PDF in `language` (labels through `translate`), drawn once per
    report version and language."""
    version = report_version(report, language)
    found = pdf_cache.get(version)
    if found is None:
        found = draw_report_pdf(report, translate)
        pdf_cache.put(version, found)
    return found


def _new_pdf() -> tuple[FPDF, str]:
    """An A4 document and the name of its font: DejaVu Sans with text shaping (Arabic letters
    joined, right to left) when installed, else the Latin-1 core font."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    fonts = _font_files()
    if fonts is None:
        return pdf, "Helvetica"
    pdf.add_font("DejaVu", "", str(fonts[0]))
    pdf.add_font("DejaVu", "B", str(fonts[1]))
    if importlib.util.find_spec("uharfbuzz") is not None:
        pdf.set_text_shaping(True)
    return pdf, "DejaVu"


def draw_report_pdf(report: CandidateReport, translate: Translate = _identity) -> bytes:
    """A candidate's report as a PDF: per role the score and status, per skill the evidence;
    every label through `translate` (gettext with parameters: the reader's language), the names
    as `report` gives them (already in that language)."""
    t = translate
    pdf, font = _new_pdf()
    text = _latin1 if font == "Helvetica" else str
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    title = t(N_("Readiness report: %(name)s"), name=report.trainee.name)
    pdf.cell(0, 10, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 9)
    when = t(N_("as of %(when)s UTC"), when=f"{report.as_of:%Y-%m-%d %H:%M}")
    pdf.cell(0, 5, text(f"{report.trainee.email} - {when}"), new_x="LMARGIN", new_y="NEXT")
    yes, no = t(N_("yes")), t(N_("no"))
    for role_id, result in report.readiness.items():
        pdf.ln(3)
        pdf.set_font(font, "B", 12)
        status = t(STATUS_LABELS.get(result.status, result.status))
        heading = (
            f"{report.roles.get(role_id, role_id)}: {result.score:.0%} "
            f"[{result.low:.0%}-{result.high:.0%}], {status}"
        )
        pdf.cell(0, 7, text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, "", 8)
        for reason in result.reasons:
            line = t(reason.message, **reason.params_named(report.skill_names))
            pdf.multi_cell(0, 4, text(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(50, 22, 26, 18, 18, 22), text_align="LEFT") as table:
            table.row(
                [
                    t(N_("Skill")),
                    t(N_("Mastery")),
                    t(N_("Interval")),
                    t(N_("Target")),
                    t(N_("Critical")),
                    t(N_("Evidence")),
                ]
            )
            for line in result.skills:
                table.row(
                    [
                        text(report.skill_names.get(line.skill, line.skill)),
                        f"{line.mastery:.0%}",
                        f"{line.low:.0%}-{line.high:.0%}",
                        f"{line.target:.0%}",
                        yes if line.critical else no,
                        str(len(line.mastery_detail.evidence)),
                    ]
                )
    pdf.add_page()
    pdf.set_font(font, "B", 12)
    pdf.cell(0, 8, t(N_("Evidence")), new_x="LMARGIN", new_y="NEXT")
    kinds = {kind.value: t(kind.label) for kind in ExerciseKind}
    for skill, lines in report.evidence.items():
        pdf.set_font(font, "B", 9)
        pdf.cell(0, 6, text(report.skill_names.get(skill, skill)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, "", 7)
        if not lines:
            pdf.cell(0, 4, t(N_("no evidence yet")), new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(col_widths=(50, 26, 12, 28, 20, 18, 14), text_align="LEFT") as table:
            table.row(
                [
                    t(N_("Exercise")),
                    t(N_("Cell")),
                    t(N_("Attempt")),
                    t(N_("Graded on")),
                    t(N_("Kind")),
                    t(N_("Score")),
                    t(N_("Weight")),
                ]
            )
            for ev in lines:
                table.row(
                    [
                        text(ev.exercise_title),
                        text(ev.grade_id),
                        str(ev.attempt),
                        f"{ev.at:%Y-%m-%d %H:%M}",
                        kinds.get(ev.kind, ev.kind),
                        f"{ev.score:g}/{ev.max_score:g}",
                        f"{ev.weight:.2f}",
                    ]
                )
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1 only; anything else is replaced, never an error.
    return text.encode("latin-1", "replace").decode("latin-1")
