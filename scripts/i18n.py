"""Translation workflow: extract messages, compile catalogs, check that Vietnamese is complete.

Usage (from anywhere; paths are resolved from the repository root):

    python scripts/i18n.py extract   # babel.cfg -> app/translations/messages.pot (not kept in git), then update vi/messages.po
    python scripts/i18n.py compile   # every app/translations/<lang>/LC_MESSAGES/messages.po -> .mo
    python scripts/i18n.py check     # exit 1, listing every msgid that is missing, untranslated or fuzzy in vi

The msgids are English, so English needs no catalog: Flask-Babel falls back to the msgid. Vietnamese is the
default locale and must be complete. Compiled ``.mo`` files are build artefacts (``*.mo`` is git-ignored).

The module is importable (``tests/test_i18n.py`` calls :func:`compile_catalogs` and :func:`check_catalogs`).
Extraction runs ``pybabel`` as ``sys.executable -m babel.messages.frontend``; compiling and checking use
Babel's Python API.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS_DIR = ROOT / "app" / "translations"
DOMAIN = "messages"
POT_FILE = TRANSLATIONS_DIR / f"{DOMAIN}.pot"
# Locales that need a catalog. English is the source language (msgids) and has none.
LOCALES = ("vi",)
REQUIRED_LOCALE = "vi"

# Flask-Babel's gettext family; Babel's defaults already cover _, gettext, ngettext, pgettext, npgettext.
KEYWORDS = (
    "_l",
    "lazy_gettext",
    "lazy_ngettext:1,2",
    "lazy_pgettext:1c,2",
    "lazy_npgettext:1c,2,3",
)
# Directories never walked during extraction (on top of the patterns in babel.cfg, which already name
# app/, tenants/ and marketplace/ only).
IGNORE_DIRS = (".*", "_*", "build", "dist", "node_modules", "instance")

# A printf-style conversion: %(name)s, %s, %d, %%, ...
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")


def po_path(locale: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    return Path(directory) / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    return Path(directory) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _pybabel(*args: str) -> None:
    """Run a pybabel command with this interpreter, from the repository root."""
    cmd = [sys.executable, "-m", "babel.messages.frontend", "--quiet", *args]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"pybabel {args[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}".rstrip()
        )


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale, domain=DOMAIN)


# --------------------------------------------------------------------------------------------- extract


def extract_template(output: Path) -> Catalog:
    """Extract every message named by babel.cfg into the template ``output``, and return it."""
    args = ["extract", "-F", str(BABEL_CFG), "-o", str(output)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    for pattern in IGNORE_DIRS:
        args += ["--ignore-dirs", pattern]
    args += [
        "--add-comments", "Translators:",
        # No file:line comments and entries sorted by msgid: a change elsewhere in a file does not rewrite the
        # catalog, and two branches that add messages merge without conflicts.
        "--no-location",
        "--sort-output",
        "--project", "gialam",
        "--version", "0.1.0",
        "--copyright-holder", "Gia Lâm commune services",
        ".",
    ]  # fmt: skip
    _pybabel(*args)
    return _read(output)


def extract() -> dict[str, int]:
    """Refresh messages.pot from the sources, then merge it into every locale catalog (keeping translations).

    New or changed msgids arrive untranslated (or fuzzy, when Babel finds a close match); ``check`` lists them.
    Returns the number of messages in the template and of problems left per locale.
    """
    TRANSLATIONS_DIR.mkdir(parents=True, exist_ok=True)
    template = extract_template(POT_FILE)
    summary = {"messages": sum(1 for m in template if m.id)}
    for locale in LOCALES:
        _pybabel(
            "update",
            "-i", str(POT_FILE),
            "-d", str(TRANSLATIONS_DIR),
            "-D", DOMAIN,
            "-l", locale,
            "--init-missing",
            "--previous",
            "--ignore-pot-creation-date",
        )  # fmt: skip
        summary[locale] = len(_problems(template, _read(po_path(locale), locale)))
    return summary


# --------------------------------------------------------------------------------------------- compile


def compile_catalogs(directory: Path | None = None, *, locales: tuple[str, ...] | None = None) -> list[Path]:
    """Compile ``<locale>/LC_MESSAGES/messages.po`` into ``.mo`` files; return the files written.

    ``directory`` is where the .mo tree is written (default: next to the .po files, app/translations, which is
    where Flask-Babel looks). Fuzzy entries are left out, as ``pybabel compile`` does without ``--use-fuzzy``.
    Writes are atomic (temporary file + rename), so a running app never reads a half-written catalog. Idempotent.
    """
    out_dir = Path(directory) if directory is not None else TRANSLATIONS_DIR
    written = []
    if locales is None:
        locales = tuple(
            sorted(p.parent.parent.name for p in TRANSLATIONS_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        )
    for locale in locales:
        catalog = _read(po_path(locale), locale)
        target = mo_path(locale, out_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{DOMAIN}.", suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


# --------------------------------------------------------------------------------------------- check


def _placeholders(text: str) -> list[str]:
    """The printf conversions of a string, ``%%`` excluded, e.g. ['%(name)s']."""
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group("type") != "%")


def _strings(value) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _format_error(msgid: str, msgstr: str) -> str | None:
    """Would the translation break at run time where the msgid works?

    Flask-Babel (and Jinja's newstyle gettext) apply ``% variables`` to the translated string, so a translation
    must keep the msgid's placeholders and must not hold a stray ``%``.
    """
    wanted, got = _placeholders(msgid), _placeholders(msgstr)
    if wanted != got:
        return f"placeholders differ: msgid has {wanted or 'none'}, translation has {got or 'none'}"
    names = {m.group("name") for m in _PLACEHOLDER.finditer(msgid) if m.group("name")}
    try:
        if names:
            msgstr % {name: 1 for name in names}
        elif "%" in msgstr and "%" in msgid:
            msgstr % ()
        elif "%" in msgstr:
            return "translation holds a '%' the msgid does not (write it as %% or drop it)"
    except (TypeError, ValueError, KeyError) as err:
        return f"translation does not format: {err}"
    return None


def _problems(template: Catalog, catalog: Catalog) -> list[str]:
    problems = []
    for message in template:
        if not message.id:
            continue  # the header
        label = _label(message)
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            problems.append(f"missing     {label}")
            continue
        if translated.fuzzy:
            problems.append(f"fuzzy       {label}")
            continue
        strings = _strings(translated.string)
        if not strings or not all(s and s.strip() for s in strings):
            problems.append(f"untranslated {label}")
            continue
        ids = _strings(message.id)
        for index, text in enumerate(strings):
            # Plural forms: Vietnamese has one, checked against the plural msgid (which holds %(num)d).
            source = ids[-1] if index else ids[0]
            error = _format_error(source, text)
            if error:
                problems.append(f"bad format  {label}: {error}")
                break
    return problems


def _label(message: Message) -> str:
    text = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2]) if message.locations else ""
    context = f" [context {message.context!r}]" if message.context else ""
    return f"{text!r}{context}" + (f"  ({where})" if where else "")


def check_catalogs(*, fresh: bool = True, locale: str = REQUIRED_LOCALE) -> list[str]:
    """Every msgid of messages.pot -- and, with ``fresh``, of a new extraction from the sources -- must have a
    non-fuzzy, non-empty translation in ``locale`` that keeps the msgid's placeholders. Returns the problems."""
    template = Catalog()
    if POT_FILE.exists():
        template = _read(POT_FILE)
    problems = []
    if fresh:
        with tempfile.TemporaryDirectory() as tmp:
            extracted = extract_template(Path(tmp) / f"{DOMAIN}.pot")
        for message in extracted:
            if message.id and template.get(message.id, context=message.context) is None:
                template[message.id] = message  # not yet in messages.pot: run `extract`
    elif not POT_FILE.exists():
        return [f"no template {POT_FILE.relative_to(ROOT)}: run `python scripts/i18n.py extract`"]
    po = po_path(locale)
    if not po.exists():
        return [f"no catalog {po.relative_to(ROOT)}: run `python scripts/i18n.py extract`"]
    problems += _problems(template, _read(po, locale))
    return problems


# --------------------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="i18n.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="babel.cfg -> messages.pot, then update the vi catalog (keeps translations)")
    p_compile = sub.add_parser("compile", help="compile .po catalogs into .mo files")
    p_compile.add_argument("--directory", type=Path, help="write the .mo tree here (default: app/translations)")
    p_check = sub.add_parser("check", help="fail listing msgids that are untranslated or fuzzy in vi")
    p_check.add_argument(
        "--no-extract", action="store_true",
        help="check the committed messages.pot only, without a fresh extraction from the sources",
    )  # fmt: skip
    args = parser.parse_args(argv)

    if args.command == "extract":
        summary = extract()
        print(f"{POT_FILE.relative_to(ROOT)}: {summary['messages']} messages")
        for locale in LOCALES:
            left = summary[locale]
            state = "complete" if not left else f"{left} to translate (see `python scripts/i18n.py check`)"
            print(f"{po_path(locale).relative_to(ROOT)}: {state}")
        return 0
    if args.command == "compile":
        for path in compile_catalogs(args.directory):
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            print(f"compiled {shown}")
        return 0
    if args.command == "check":
        problems = check_catalogs(fresh=not args.no_extract)
        if problems:
            print(f"{po_path(REQUIRED_LOCALE).relative_to(ROOT)}: {len(problems)} problem(s):", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print("Run `python scripts/i18n.py extract`, translate, then check again.", file=sys.stderr)
            return 1
        print(f"{po_path(REQUIRED_LOCALE).relative_to(ROOT)}: every message translated")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
