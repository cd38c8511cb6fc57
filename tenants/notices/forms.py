from flask_babel import lazy_gettext as _l
from app.forms import BaseForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class NoticeForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[Length(max=20000)])
    published = BooleanField(_l("Published on the commune's public page"), default=True)
