from flask_babel import lazy_gettext as _l
from app.forms import BaseForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class LoginForm(BaseForm):
    # An e-mail address or, a stallholder's who has none, a mobile number (#19): the field keeps its name.
    email = StringField(_l("Email or phone number"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords do not match."))],
    )


class StaffForm(BaseForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=200)])


class CommuneAdminForm(StaffForm):
    tenant = SelectField(_l("Commune"), coerce=int, validators=[DataRequired()])
