"""WTForms with CSRF tokens (Flask-WTF) for the account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.models import UserRole
from lms.services.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Sign in."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("new")]
    )


class SetPasswordForm(FlaskForm):
    """Choose a password through a one-time link."""

    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("new")]
    )


class SignOutForm(FlaskForm):
    """A button (with its CSRF token) that signs out or acts on an account."""


ROLE_CHOICES = [SelectChoice(r.value, _l(r.label)) for r in UserRole]


class CreateUserForm(FlaskForm):
    """An admin invites someone: the account is made and a one-time link is shown once."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(FlaskForm):
    """An admin gives an account another role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ActiveForm(FlaskForm):
    """An admin disables or enables an account."""

    active = SelectField(choices=[SelectChoice("yes", "yes"), SelectChoice("no", "no")])


class DeleteForm(FlaskForm):
    """An admin deletes an account, typing its e-mail to confirm."""

    confirm = StringField(
        _l("Type the e-mail to confirm"), validators=[DataRequired(), Length(max=254)]
    )


class LanguageForm(FlaskForm):
    """Pick the interface language."""

    locale = SelectField(
        _l("Language"), choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")]
    )
