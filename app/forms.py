"""The base form: WTForms' own validation messages go through our catalogue (WTForms ships no Vietnamese)."""

from flask_babel import get_translations, lazy_gettext as _l, lazy_ngettext
from flask_wtf import FlaskForm


class _BabelTranslations:
    """WTForms formats its messages itself, so these only translate (flask_babel.gettext would also format)."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


class BaseForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _BabelTranslations()

    # A service's field name -> the form's field that shows its refusal, where the two differ.
    error_fields: dict[str, str] = {}

    def show_error(self, err) -> None:
        """A service's refusal (``DomainError``) shown where it belongs: at the field it names, else flashed above
        the form. The view then renders the form again with status 400 (the boundary rolls back). A ``NotFound``
        is no error of the form: it goes on to the 404."""
        if err.status == 404:
            raise err
        name = self.error_fields.get(err.field, err.field) if err.field else None
        field = self._fields.get(name) if name else None
        if field is None:
            from flask import flash

            flash(str(err.message), "error")
            return
        field.errors = [*field.errors, str(err.message)]

    def check(self):
        """The posted form, validated; else its first error raised as a ``ValidationError`` (a form posted from a
        page it goes back to, ``back_to``, with the reason flashed)."""
        from app.errors import ValidationError

        if not self.validate_on_submit():
            name, messages = next(iter(self.errors.items()))
            raise ValidationError(messages[0], field=name)
        return self


# The WTForms messages our forms can show, listed so that extraction puts them in the catalogue.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid email address."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 2),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 2),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Field must be equal to %(other_name)s."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid integer value."),
    _l("Invalid input."),
    _l("Invalid URL."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
)
