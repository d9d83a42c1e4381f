"""Admins: operate the grading queue (depth, running jobs, failures and their reason, retry)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lms.errors import DomainError
from lms.extensions import db
from lms.models import UserRole
from lms.queue import get_queue
from lms.services import queue_ops
from lms.web.access import roles_required
from lms.web.errors import flash_refusal

bp = Blueprint("ops", __name__, url_prefix="/admin/ops")

HEALTH_TIMEOUT = 1.0  # seconds the page waits for the broker and the workers to answer


@bp.get("/")
@roles_required(UserRole.ADMIN)
def index():
    """The queue at a glance, what grading depends on, and the failed jobs with a retry."""
    backend = get_queue()
    return render_template(
        "ops/index.html",
        queue=queue_ops.overview(db.session),
        health=backend.health_checks(HEALTH_TIMEOUT),
        embedded_workers=backend.worker_threads,
    )


@bp.post("/jobs/<int:job_id>/retry")
@roles_required(UserRole.ADMIN)
def retry(job_id: int):
    """Queue a failed job again (the trainee's notebook was kept) and hand it to the workers."""
    try:
        job = queue_ops.retry_job(db.session, job_id)
    except DomainError as refused:
        flash_refusal(refused)
        return redirect(url_for(".index")), 303
    if get_queue().enqueue(job.id) is False:
        flash(
            _(
                "Job %(id)s is queued again, but the broker is unreachable: it will be sent "
                "when the broker is back.",
                id=job.id,
            ),
            "error",
        )
    else:
        flash(_("Job %(id)s is queued again.", id=job.id), "info")
    return redirect(url_for(".index")), 303
