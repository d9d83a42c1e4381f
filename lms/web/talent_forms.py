"""Forms (with CSRF tokens) of the talent pages: sharing, marks, cohorts, API tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from lms.models.talent import MarkStatus

YES_NO = [SelectChoice("yes", "yes"), SelectChoice("no", "no")]


class ShareForm(FlaskForm):
    """Share or stop sharing my report (the button says which)."""

    share = SelectField(choices=YES_NO, validators=[DataRequired()])


class MarkForm(FlaskForm):
    """A recruiter marks a candidate for a role."""

    role = StringField(validators=[DataRequired(), Length(max=80)])
    status = SelectField(
        _l("Mark"),
        choices=[SelectChoice(m.value, m.value) for m in MarkStatus],
        validators=[DataRequired()],
    )


class CohortForm(FlaskForm):
    """An admin creates a cohort."""

    slug = StringField(_l("Cohort id"), validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    default_sharing = BooleanField(_l("Ask its trainees to share their report"))


class CohortDefaultForm(FlaskForm):
    """An admin sets whether a cohort asks its trainees to share."""

    default_sharing = SelectField(choices=YES_NO, validators=[DataRequired()])


class CohortMembersForm(FlaskForm):
    """An admin adds trainees to a cohort, one e-mail per line."""

    emails = TextAreaField(_l("Trainee e-mails, one per line"), validators=[DataRequired()])


class TokenForm(FlaskForm):
    """An admin creates an API token for a recruiter."""

    email = EmailField(_l("Recruiter e-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("What it is for"), validators=[Length(max=120)])


class PlanRowForm(FlaskForm):
    """An admin adds or changes a row of the hiring plan; the service checks the values (so a
    refusal says, per field, what is wrong)."""

    role = StringField(validators=[Length(max=80)])
    count = StringField(validators=[Length(max=20)])
    by = StringField(validators=[Length(max=20)])
