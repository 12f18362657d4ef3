"""French typography of the French catalogue, applied to every msgstr (never to msgids, comments or contexts).

- One apostrophe: the typographic ’ between letters (l’acceptation, aujourd’hui), never the straight one.
- No-break spaces: U+202F (narrow) before ; ! ? and U+00A0 before : and inside « », so that the sign never
  starts a line; a plain space there becomes the no-break one.

Format placeholders (%(name)s, %s, {name}), HTML tags and their attribute quotes, entities (&amp;) and URLs are
set aside before and put back after: the script never changes them. Idempotent.

    .venv/bin/python locale/tools/fr_typography.py [locale/fr/LC_MESSAGES/django.po]
"""

from __future__ import annotations

import re
import sys

import polib

NNBSP, NBSP = "\u202f", "\u00a0"
PROTECTED = re.compile(
    r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif%]|\{\{[^}]*\}\}|\{\w*\}|<[^>]+>|&#?\w+;|https?://[^\s<\"]+"
)
LETTER = "A-Za-zÀ-ÖØ-öø-ÿŒœ"
SENTINELS = "\ue000-\uf8ff"
APOSTROPHE = re.compile(rf"(?<=[{LETTER}])'(?=[{LETTER}{SENTINELS}])")
# A sign after a word, a closing bracket or quote, a placeholder or a tag (never after a digit: 12:30, 1:2).
BEFORE_SIGN = rf"(?<=[{LETTER}{SENTINELS})»\"’.…])"
HIGH_SIGN = re.compile(rf"(?<=[{LETTER}{SENTINELS}0-9)»\"’.…])" + r"[ \u00a0\u202f]?([;!?])(?=[\s\u00a0\u202f]|$|[)»\"" + SENTINELS + r"])")
COLON = re.compile(BEFORE_SIGN + r"[ \u00a0\u202f]?:(?=[\s\u00a0\u202f]|$|[" + SENTINELS + r"])")
OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]?")
CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]?»")


def typeset(text: str) -> str:
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return chr(0xE000 + len(kept) - 1)

    text = PROTECTED.sub(keep, text)
    text = APOSTROPHE.sub("’", text)
    text = HIGH_SIGN.sub(lambda m: NNBSP + m.group(1), text)
    text = COLON.sub(NBSP + ":", text)
    text = OPEN_QUOTE.sub("«" + NBSP, text)
    text = CLOSE_QUOTE.sub(NBSP + "»", text)
    return re.sub(f"[{SENTINELS}]", lambda m: kept[ord(m.group(0)) - 0xE000], text)


def main(path: str) -> int:
    po = polib.pofile(path, wrapwidth=0)
    changed = 0
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgstr:
            new = typeset(entry.msgstr)
            changed += new != entry.msgstr
            entry.msgstr = new
        for index, value in list(entry.msgstr_plural.items()):
            new = typeset(value)
            changed += new != value
            entry.msgstr_plural[index] = new
    po.save()
    return changed


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "locale/fr/LC_MESSAGES/django.po"), "msgstr changed")
