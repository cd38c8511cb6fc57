"""The one-stop office's forms (Flask-WTF). They read the wire (whole numbers, dates, times, choices, files) with the
office's own messages; the rules (required, lengths, formats, what a state allows) are the services', whose
refusals the views show at the field they name (``BaseForm.show_error``)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app.errors import ValidationError
from app.forms import BaseForm
from app.formatting import VN_TZ, format_vnd
from tenants.onestop import statuses
from tenants.onestop.models import TIME_UNITS

NOT_A_WHOLE_NUMBER = _l("Enter a whole number of at least 0.")
NOT_A_DATE = _l("Enter a date.")
NOT_A_TIME = _l("Enter the time as HH:MM.")


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def parse_whole_number(text: str) -> int:
    """``125.000`` or ``125 000`` -> 125000; ValueError with the office's message for anything else."""
    digits = (text or "").strip().replace(".", "").replace(" ", "")
    if not digits.isdigit() or len(digits) > 12:
        raise ValueError(NOT_A_WHOLE_NUMBER)
    return int(digits)


def a_date(value: str | None, field: str) -> date:
    """A YYYY-MM-DD date of a query string (the dashboard's period)."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(NOT_A_DATE, field=field) from None


class WholeNumberField(StringField):
    """A whole number (đồng, days, sets), written with or without thousands' dots; empty gives ``empty``."""

    def __init__(self, label=None, validators=None, empty: int | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.empty = empty

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text and self.empty is not None:
            self.data = self.empty
            return
        self.data = None
        self.data = parse_whole_number(text)

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class ChoiceNumberField(SelectField):
    """A select whose value is a record's id (a procedure): a whole number; the service says whether it exists."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = None
            self.data = parse_whole_number(valuelist[0])


class _InOurWords:
    """A WTForms field whose reading error is said in the office's words (``message``)."""

    message = None

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.message) from None


class DayField(_InOurWords, DateField):
    message = NOT_A_DATE


class ClockField(_InOurWords, TimeField):
    message = NOT_A_TIME


class WeekdaysField(SelectMultipleField):
    """The office's working days as checkboxes (0 = Monday); anything but a digit is ignored."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        self.data = [int(value) for value in valuelist if value.isdigit()]

    def pre_validate(self, form):
        pass  # the service checks the days


# --- dossiers ----------------------------------------------------------------------------------------------------

class ApplicantForm(BaseForm):
    """The citizen's details (services.clean_applicant checks them)."""

    applicant_name = StringField(_l("Full name"), render_kw={"required": True, "autocomplete": "name"})
    applicant_id_number = StringField(_l("ID number (12 digits)"), render_kw={"required": True,
                                                                               "inputmode": "numeric"})
    applicant_phone = StringField(_l("Phone"), render_kw={"inputmode": "tel", "autocomplete": "tel"})
    applicant_address = StringField(_l("Address"), render_kw={"autocomplete": "street-address"})
    applicant_email = StringField(_l("E-mail"), render_kw={"type": "email", "autocomplete": "email"})
    procedure_id = ChoiceNumberField(_l("Procedure"))
    request_note = TextAreaField(_l("Request"))

    def applicant(self) -> dict:
        return {"name": self.applicant_name.data or "", "id_number": self.applicant_id_number.data or "",
                "phone": self.applicant_phone.data or "", "address": self.applicant_address.data or "",
                "email": self.applicant_email.data or ""}

    def offer(self, procedures) -> None:
        """The procedures to choose from, with their fees."""
        self.procedure_id.choices = choices((p.id, f"{p.name} · {format_vnd(p.fee)}") for p in procedures)


class IntakeForm(ApplicantForm):
    """At the counter: the officer receives the dossier, or refuses it at reception with a reason."""

    sets = WholeNumberField(_l("Number of sets"), empty=1, default=1, render_kw={"inputmode": "numeric"})
    channel = SelectField(_l("Channel"), choices=choices((c, statuses.CHANNEL_LABELS[c]) for c in statuses.CHANNELS),
                          validate_choice=False, default="counter")
    files = MultipleFileField(_l("Scanned documents (PDF, PNG, JPEG; 10 MB each)"),
                              render_kw={"accept": ".pdf,.png,.jpg,.jpeg"})
    reason = TextAreaField(_l("Reason for refusal"), render_kw={"maxlength": 2000})
    decision = StringField()  # "refuse" from the refusal's button

    @property
    def refusing(self) -> bool:
        return self.decision.data == "refuse"


class SubmitForm(ApplicantForm):
    """Online, by the citizen: the dossier waits for reception. A phone number or an e-mail address is required."""

    files = MultipleFileField(_l("Scanned documents (PDF, PNG, JPEG; up to 5 files, 10 MB each)"),
                              render_kw={"accept": ".pdf,.png,.jpg,.jpeg", "multiple": True})


class SupplementForm(BaseForm):
    """The citizen's additional documents, sent from the dossier's page."""

    files = MultipleFileField(_l("Additional documents (PDF, PNG, JPEG; up to 5 files, 10 MB each)"),
                              render_kw={"accept": ".pdf,.png,.jpg,.jpeg", "multiple": True})


class ReasonForm(BaseForm):
    """An action on a dossier that carries a reason (refuse, request documents, stop, withdraw)."""

    reason = StringField(_l("Reason"))


class ApologyForm(BaseForm):
    """Mẫu 04: why the dossier will be late, and the new appointment (Hà Nội time)."""

    error_fields = {"new_due": "new_date"}

    reason = StringField(_l("Why it will be late"))
    new_date = DayField(_l("New appointment: date"))
    new_time = ClockField(_l("New appointment: time"), default=datetime(2000, 1, 1, 16, 0).time())

    def new_due(self) -> datetime:
        day, clock = self.new_date.data, self.new_time.data
        return datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=VN_TZ)


class ResultForm(BaseForm):
    file = FileField(_l("Result file (PDF, PNG, JPEG)"))
    note = StringField(_l("Note"))


class DocumentForm(BaseForm):
    file = FileField(_l("Add a scanned document"))


# --- the commune's procedures and office hours -------------------------------------------------------------------

class ProcedureForm(BaseForm):
    name = StringField(_l("Name"), render_kw={"required": True})
    sector = StringField(_l("Sector"), render_kw={"required": True})
    time_amount = WholeNumberField(_l("Processing time"), empty=0, render_kw={"inputmode": "numeric"})
    time_unit = SelectField(_l("Counted in"), choices=choices([("days", _l("working days")), ("hours", _l("working hours"))]),
                            validate_choice=False, default=TIME_UNITS[0])
    same_day = BooleanField(_l("Same day (after 15:00: next working day)"))
    fee = WholeNumberField(_l("Fee (đồng)"), empty=0, default=0, render_kw={"inputmode": "numeric"})
    required_documents = TextAreaField(_l("Required documents"))
    online = BooleanField(_l("Can be submitted online"), default=True)
    active = BooleanField(_l("Offered"), default=True)

    def values(self) -> dict:
        return {name: self[name].data for name in ("name", "sector", "time_unit", "time_amount", "same_day", "fee",
                                                    "required_documents", "online", "active")}


class ScheduleForm(BaseForm):
    morning_start = StringField(_l("Morning opens"), render_kw={"type": "time"})
    morning_end = StringField(_l("Morning closes"), render_kw={"type": "time"})
    afternoon_start = StringField(_l("Afternoon opens"), render_kw={"type": "time"})
    afternoon_end = StringField(_l("Afternoon closes"), render_kw={"type": "time"})
    same_day_cutoff = StringField(_l("Same-day cut-off"), render_kw={"type": "time"})
    weekdays = WeekdaysField(_l("Working days"), choices=choices([
        (0, _l("Mon")), (1, _l("Tue")), (2, _l("Wed")), (3, _l("Thu")), (4, _l("Fri")), (5, _l("Sat")), (6, _l("Sun"))]))

    def values(self) -> tuple:
        return (self.morning_start.data or "", self.morning_end.data or "", self.afternoon_start.data or "",
                self.afternoon_end.data or "", self.weekdays.data or [], self.same_day_cutoff.data or "")


class DayOffForm(BaseForm):
    day = DayField(_l("Date"))
    reason = StringField(_l("Reason"))


# --- ratings -----------------------------------------------------------------------------------------------------

class RatingForm(BaseForm):
    level = RadioField(_l("How satisfied are you?"), choices=choices(statuses.RATING_LABELS.items()),
                       validate_choice=False)
    reason = StringField(_l("Reason (required if not satisfied)"))


class OfficerRatingForm(RatingForm):
    """The officer's counter QR: the citizen types the dossier code of the receipt."""

    code = StringField(_l("Dossier code (on your receipt)"), render_kw={"required": True})
    id_number = StringField(_l("Your ID number (only the applicant may rate)"),
                            render_kw={"required": True, "inputmode": "numeric", "autocomplete": "off"})
