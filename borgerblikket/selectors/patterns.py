"""Regular expressions the selectors run in SQL, in the part both databases read alike.

PostgreSQL (production) and SQLite (``make run``'s default, whose REGEXP is
Python's ``re``) disagree on much of the syntax: Python knows no POSIX classes
(``[[:space:]]`` is a set of the characters ``[:space`` to it), PostgreSQL's
``\\m``/``\\y`` are word boundaries but Python's are errors or other things, and
``\\s``/``\\w``/``\\d`` follow the database's locale in PostgreSQL (in C.UTF-8 a
no-break space is not ``[[:space:]]``) but Unicode in Python, and ``.`` matches a
line break in PostgreSQL but not in Python. So every pattern here spells its
characters out: literal characters, ``[0-9]``, explicit ranges, no ``.``.

One difference is left on purpose: Python's ``$`` also matches before a final line
break, PostgreSQL's only at the very end. The patterns here end in a class that
takes a line break anyway; the models' CheckConstraints (``^[0-9]{10}$`` & co.)
keep it, as their columns' values are validated before they are stored and
rewriting them would re-check every row of the largest tables under a lock.
``tests/borgerblikket/test_regex_portability.py`` runs each one on the database
and in Python and compares, and the visibility tests run on both databases.
"""

# White space: the ASCII controls, space and the no-break spaces Danish text uses.
WHITESPACE = " \t\n\r\f\v\u00a0\u2007\u202f"
# Letters and digits of Danish (and the rest of Latin-1) text: what "a word" is made of.
WORD_CHARACTERS = "0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"
NOT_WORD = f"[^{WORD_CHARACTERS}]"

# A title that is empty or only digits, dashes and white space (a CPR or case number)
# is no title (seed 002; the citizen then sees the sheet's KLE-navn).
NO_TITLE = f"^[{WHITESPACE}0-9-]*$"
# Only white space (or nothing).
BLANK = f"^[{WHITESPACE}]*$"
# Seed 002: "Tegnsætning - spørgsmålstegn dog undtagelse". Hyphens and slashes are part
# of Danish compound words ("Selvforsørgelses- og …") and are allowed.
PUNCTUATION = "[.,;:!\"“”„'()\\[\\]{}…]"
MULTILINE = "[\r\n]"
# Fagsystem status texts that say "passive" or "closed" (B/A/P in ESDH, seed 002);
# matched case-insensitively.
# "P" alone, or a text starting with "passiv" ("Passiv", "Passiv, afventer"): no ".",
# which matches a line break in PostgreSQL but not in Python.
PASSIVE_STATUS = f"^[{WHITESPACE}]*(p[{WHITESPACE}]*$|passiv)"
CLOSED_STATUS = f"^[{WHITESPACE}]*(a|afsluttet|lukket|closed)[{WHITESPACE}]*$"


def any_word(words: list[str]) -> str:
    """Any of ``words`` (already escaped) as a whole word, anywhere in the text."""
    return f"(^|{NOT_WORD})(" + "|".join(words) + f")({NOT_WORD}|$)"


def first_word(words: list[str]) -> str:
    """A text starting (after white space) with any of ``words`` (already escaped) as a
    whole word."""
    return f"^[{WHITESPACE}]*(" + "|".join(words) + f")({NOT_WORD}|$)"


def literal(text: str) -> str:
    """``text`` as a pattern matching itself in both dialects: a letter or digit as
    itself, ``\\``, ``^``, ``[`` and ``]`` escaped with a backslash (both read that as
    the character), any other character in brackets (``[.]``)."""
    return "".join(ch if ch.isalnum() else f"\\{ch}" if ch in "\\^[]" else f"[{ch}]" for ch in text)
