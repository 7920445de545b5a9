"""Check that the interface stays translated: run by `make translations-check` and CI.

Fails (exit status 1, one line per problem) when

* a catalogue (``locale/<language>/LC_MESSAGES/django.po``) has an entry
  without a translation or marked fuzzy (a guess by msgmerge that nobody
  checked), or a translation that drops or invents a placeholder
  (``%(name)s``, ``{}``);
* a compiled catalogue (``django.mo``, committed so that ``make run`` needs no
  gettext tools) does not hold exactly what its ``.po`` says: recompile with
  ``make messages``;
* a template has text a person reads outside ``{% translate %}`` and
  ``{% blocktranslate %}``: between tags, or in an attribute that is read
  out or shown (``title``, ``alt``, ``aria-label``, ``placeholder``, a meta
  description).

Whether the catalogues hold every string of the code is checked by CI with
``make messages`` and ``git diff`` (that needs GNU gettext's xgettext).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent
# Names written the same in every language: the site's, the checksum's (SHA-256) and the protocol's (HTTP 404).
UNTRANSLATED_WORDS = {"Whereabouts", "SHA", "HTTP"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w*\}")
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder", "label"}
HIDDEN = "\x00"


def catalogue_problems(po_path: Path) -> list[str]:
    where = po_path.relative_to(ROOT)
    catalogue = polib.pofile(str(po_path))
    problems = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        label = f"{where}: “{entry.msgid[:60]}”"
        if "fuzzy" in entry.flags:
            problems.append(f"{label} is marked fuzzy: check the translation and remove the flag")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(translations):
            problems.append(f"{label} has no translation")
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        for translation in translations:
            if set(PLACEHOLDER.findall(translation)) != wanted:
                problems.append(f"{label}: the translation's placeholders differ from the original's")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return [*problems, f"{where.with_suffix('.mo')} is missing: run make messages"]
    if _messages(polib.mofile(str(mo_path))) != _messages(catalogue.translated_entries()):
        problems.append(f"{where.with_suffix('.mo')} differs from {where.name}: run make messages and commit both")
    return problems


def _messages(entries) -> dict:
    """(context, original) → (translation, plural translations by number), the header left out."""
    return {
        (e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()}) for e in entries if e.msgid
    }


class _ReadText(HTMLParser):
    """The text of a template's HTML that a person reads, with the template's own tags hidden."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (name == "content" and attributes.get("name") == "description")
            if read and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        words = [word for word in re.findall(r"[^\W\d_]+", text.replace(HIDDEN, " ")) if word not in UNTRANSLATED_WORDS]
        if words:
            self.found.append(" ".join(text.replace(HIDDEN, "…").split()))


def template_problems(path: Path) -> list[str]:
    """Text outside translation tags in one template."""
    shown: list[str] = []
    hidden_until = None  # the tag that ends a stretch whose text is not checked here
    for token in Lexer(path.read_text(encoding="utf-8")).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if hidden_until:
                if name == hidden_until:
                    hidden_until = None
                continue
            if name in ("blocktranslate", "blocktrans"):
                hidden_until = "endblocktranslate" if name == "blocktranslate" else "endblocktrans"
            elif name == "comment":
                hidden_until = "endcomment"
            # A space, not a mark: a tag may stand between two attributes (<p{% if x %} lang="ko"{% endif %}>).
            shown.append(" ")
        elif hidden_until:
            continue
        elif token.token_type == TokenType.TEXT:
            shown.append(token.contents)
        elif token.token_type != TokenType.COMMENT:
            shown.append(HIDDEN)
    parser = _ReadText()
    parser.feed("".join(shown))
    parser.close()
    where = path.relative_to(ROOT)
    return [f"{where}: “{text[:80]}” is not inside a translation tag" for text in parser.found]


def main() -> int:
    problems = []
    catalogues = sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po"))
    if not catalogues:
        problems.append("locale/: no catalogue found")
    for po_path in catalogues:
        problems += catalogue_problems(po_path)
    for template in sorted((ROOT / "templates").rglob("*.html")):
        problems += template_problems(template)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} translation problem(s). See the README's “Translations”.", file=sys.stderr)
        return 1
    print(f"Translations complete: {len(catalogues)} catalogues, templates checked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
