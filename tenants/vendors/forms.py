from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm


class BankAccountForm(BaseForm):
    bank_bin = SelectField(_l("Bank"), validate_choice=False)  # the service says "unknown bank" clearly
    account_number = StringField(_l("Account number"), validators=[DataRequired(), Length(max=40)])
    holder_name = StringField(_l("Account holder (as the bank writes it)"),
                              validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Your password (to confirm the change)"))


class ProfileForm(BaseForm):
    owner_name = StringField(_l("Owner"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=20)])
    description = TextAreaField(_l("About your stall"), validators=[Optional(), Length(max=5000)])


class SetPasswordForm(BaseForm):
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired(), Length(max=200)])


class AssignForm(BaseForm):
    payment = StringField(_l("Payment id (pi_...) or reference code"), validators=[DataRequired(), Length(max=40)])


class ResolveForm(BaseForm):
    note = StringField(_l("What was done"), validators=[DataRequired(), Length(max=1000)])


class AcceptLateForm(BaseForm):
    """Only the CSRF token."""
