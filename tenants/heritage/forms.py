"""The register's forms (Flask-WTF). Fields check their shape; the rules (vocabularies, unique numbers, positions)
are the services' and come back as errors at their field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import BaseForm
from tenants.heritage.kinds import DOCUMENT_KINDS, LANGUAGES, RANKINGS, RELIC_KINDS


def _choices(vocabulary: dict) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in vocabulary.items()]


class RelicForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[])
    ranking = SelectField(_l("Ranking"), choices=[])
    ranked_year = IntegerField(_l("Year of the ranking"), validators=[Optional(), NumberRange(1962, 2100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    latitude = StringField(_l("Latitude (decimal degrees, e.g. 21.0245)"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude (decimal degrees, e.g. 105.9312)"), validators=[Optional(), Length(max=20)])
    summary = TextAreaField(_l("What to see"), validators=[Optional(), Length(max=20_000)])
    summary_en = TextAreaField(_l("What to see, in English"), validators=[Optional(), Length(max=20_000)])
    history = TextAreaField(_l("The relic's history"), validators=[Optional(), Length(max=50_000)])
    history_en = TextAreaField(_l("History, in English"), validators=[Optional(), Length(max=50_000)])
    published = BooleanField(_l("Published on the commune's public pages"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(RELIC_KINDS)
        self.ranking.choices = _choices(RANKINGS)


class FestivalForm(BaseForm):
    name = StringField(_l("Festival"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=200)])
    lunar_day = IntegerField(_l("Lunar day"), validators=[DataRequired(), NumberRange(1, 30)])
    lunar_month = IntegerField(_l("Lunar month"), validators=[DataRequired(), NumberRange(1, 12)])
    days = IntegerField(_l("Days"), validators=[Optional(), NumberRange(1, 15)], default=1)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5_000)])


class ArtefactForm(BaseForm):
    inventory_number = StringField(_l("Inventory number"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    material = StringField(_l("Material"), validators=[Optional(), Length(max=120)])
    period = StringField(_l("Dating"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])


class SteleForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    period = StringField(_l("Dating"), validators=[Optional(), Length(max=120)])
    original_text = TextAreaField(_l("Original text (Hán or Nôm)"), validators=[Optional(), Length(max=50_000)])
    transcription = TextAreaField(_l("Transcription (phiên âm)"), validators=[Optional(), Length(max=50_000)])
    translation = TextAreaField(_l("Vietnamese translation"), validators=[Optional(), Length(max=50_000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(DOCUMENT_KINDS)


class BoardForm(BaseForm):
    number = IntegerField(_l("Board number (empty: the next free one)"),
                          validators=[Optional(), NumberRange(1, 99_999)])
    narration = BooleanField(_l("The board invites visitors to the audio guide"), default=True)
    installed_on = DateField(_l("Put up on"), validators=[Optional()])


class PictureForm(BaseForm):
    image = FileField(_l("Picture (JPEG, PNG or WebP, 5 MB at most)"))


class PanoramaForm(BaseForm):
    image = FileField(_l("360° photo (equirectangular JPEG, 15 MB at most)"))


class AudioForm(BaseForm):
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    audio = FileField(_l("Recording (MP3, M4A, Ogg or WAV, 20 MB at most)"))
