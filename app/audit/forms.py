"""The trail's filters (a GET form: no CSRF token, nothing changes)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.forms import BaseForm

FIRST_YEAR, LAST_YEAR = 2000, 2100
NOT_A_DATE = _l("Not a valid date value.")  # WTForms' own message, listed for the catalogue


def _sane_year(form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Choose a day between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))


class TrailFilterForm(BaseForm):
    class Meta:
        csrf = False

    who = StringField(_l("Who (email or name)"), validators=[Optional(), Length(max=254)])
    table = SelectField(_l("Record kind"), choices=[], default="", validate_choice=True)
    action = SelectField(_l("Action"), choices=[], default="", validate_choice=True)
    record = StringField(_l("Record number"), validators=[Optional(), Length(max=100)])
    since = DateField(_l("First day"), validators=[Optional(), _sane_year])
    until = DateField(_l("Last day"), validators=[Optional(), _sane_year])

    def validate_until(self, field) -> None:
        since: date | None = self.since.data
        if field.data is not None and since is not None and field.data < since:
            raise ValidationError(_l("The last day is before the first day."))


class DistrictTrailFilterForm(TrailFilterForm):
    commune = SelectField(_l("Commune"), choices=[], default="", validate_choice=True)
