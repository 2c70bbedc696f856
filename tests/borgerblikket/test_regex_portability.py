"""Every regular expression the code runs in SQL means the same on PostgreSQL and SQLite.

SQLite's REGEXP is Python's ``re``; PostgreSQL has its own dialect. A pattern
that only PostgreSQL understands (``[[:space:]]``) quietly matched nothing on
SQLite, and a CPR-number title was shown verbatim under ``make run``
(issue 11.3). So: no PostgreSQL-only syntax anywhere in the code, and each
pattern used in a query — the models' CheckConstraints, the selectors' and the
quality checks' — gives the database's answer equal to Python's for a corpus
and for generated text. This file also runs on SQLite (tests/test_sqlite.py).
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import BooleanField, CheckConstraint, ExpressionWrapper, Q, TextField, Value
from hypothesis import given, settings
from hypothesis import strategies as st

from borgerblikket.selectors import patterns, quality, visibility
from config.cpr_shape import CPR_SHAPE_SQL
from indexes.models import Municipality

pytestmark = [pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("borgerblikket", "config", "indexes", "kle", "overblik")
# PostgreSQL-only: POSIX classes, collating elements and equivalence classes in brackets,
# and the word-boundary escapes \m \M \y \Y (Python has none of them).
POSTGRES_ONLY = re.compile(r"\[:[a-z]+:\]|\[\.[^]]*\.\]|\[=[^]]*=\]|\\[mMyY]")

CORPUS = [
    "",
    " ",
    "\u00a0",
    "\t\n",
    "0101701234",
    "010170-1234",
    "010170 1234",
    "Afgørelse om tilskud vedr. barn 010170-1234",
    "Sag 310270-1234",
    "12345678901",
    "2024-9000006",
    "2024-000123",
    "Afslag på kontanthjælp",
    "Afslag",
    "afslagpå",
    "  Bevilling af hjælp",
    "Ansøgning, kontanthjælp",
    "Hvornår får jeg svar?",
    "Partshøring\nandet afsnit",
    "AFSLAG PÅ ÆLDREBOLIG",
    "Hjælp fx til tandpleje",
    "Hjælp f.eks. til tandpleje",
    "Hjælp fxx",
    "Ærø fx",
    "æfx",
    "P",
    "p\n",
    " passiv ",
    "passiv\nsat i bero",
    "461\n",
    "0101701234\n",
    "Passiv\u00a0",
    "A",
    "afsluttet",
    "Lukket",
    "Under behandling",
    "https://odense.dk",
    "http:/odense.dk",
    "66131372",
    "6613137",
    "461",
    "32.24.04",
    "32.24",
    "32",
    "Ø12",
    "G01",
    "a" * 64,
    "0" * 64,
    "١٢٣٤٥٦٧٨٩٠",  # digits of another script: [0-9] means ASCII digits in both
]


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_no_code_uses_syntax_only_postgresql_knows():
    """POSIX classes and PostgreSQL's word boundaries, in any string of the apps'
    code (models, migrations, selectors, services), outside docstrings."""
    offenders = []
    for folder in APP_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            skip = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in skip
                    and POSTGRES_ONLY.search(node.value)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def _q_patterns(q) -> list[tuple[str, bool]]:
    found = []
    for child in q.children:
        if isinstance(child, Q):
            found += _q_patterns(child)
        else:
            lookup, value = child
            if lookup.endswith("__regex") or lookup.endswith("__iregex"):
                found.append((value, lookup.endswith("__iregex")))
    return found


def _constraint_patterns() -> list[tuple[str, bool]]:
    found = []
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                found += _q_patterns(constraint.condition)
    return found


def used_patterns() -> dict[str, tuple[str, bool]]:
    """Every pattern the code runs in SQL: name → (pattern, case-insensitive)."""
    found = {
        f"constraint {pattern}": (pattern, ignore_case)
        for pattern, ignore_case in _constraint_patterns()
    }
    found |= {
        "visibility no title": (visibility._NO_TITLE_REGEX, False),
        "quality multiline": (quality.MULTILINE_REGEX, False),
        "quality punctuation": (quality.PUNCTUATION_REGEX, False),
        "quality no title": (quality.NO_TITLE_REGEX, False),
        "quality passive": (quality.PASSIVE_STATUS_REGEX, True),
        "quality closed": (quality.CLOSED_STATUS_REGEX, True),
        "quality blank caseworker": (patterns.BLANK, False),
        "cpr shape": (CPR_SHAPE_SQL, False),
        # The operator's lists as the migrations seed them, plus awkward entries.
        "abbreviations": (quality.abbreviations_regex(), True),
        "lead words": (quality.lead_words_regex(), True),
        "literal words": (
            patterns.any_word([patterns.literal(w) for w in ("f.eks.", "a^b", "x[y]", "c\\d")]),
            True,
        ),
    }
    return found


def database_verdicts(text: str, named: dict[str, tuple[str, bool]]) -> dict[str, bool]:
    """Whether each pattern matches ``text`` in the database, by Django's own lookups."""
    checks = {
        f"m{n}": ExpressionWrapper(
            Q(**{f"_t__{'iregex' if ignore_case else 'regex'}": pattern}),
            output_field=BooleanField(),
        )
        for n, (pattern, ignore_case) in enumerate(named.values())
    }
    row = (
        Municipality.objects.annotate(_t=Value(text, output_field=TextField()))
        .annotate(**checks)
        .values(*checks)
        .order_by()[:1]
        .get()
    )
    return {name: bool(row[f"m{n}"]) for n, name in enumerate(named)}


def python_verdicts(text: str, named: dict[str, tuple[str, bool]]) -> dict[str, bool]:
    return {
        name: re.search(pattern, text, re.IGNORECASE if ignore_case else 0) is not None
        for name, (pattern, ignore_case) in named.items()
    }


def comparable(name: str, text: str) -> bool:
    """Python's ``$`` also matches before a final line break, PostgreSQL's does not; the
    constraints keep their ``$`` (selectors/patterns.py says why), so text ending in a line
    break is compared for the selectors' patterns only."""
    return not (name.startswith("constraint ") and text.endswith("\n"))


@pytest.fixture
def named():
    found = used_patterns()
    assert all(pattern for pattern, _ in found.values()), found
    # The constraints are found, not listed: a few of them at least.
    assert sum(name.startswith("constraint ") for name in found) >= 8
    return found


def test_the_collection_finds_the_patterns_that_matter(named):
    patterns_found = {pattern for pattern, _ in named.values()}
    assert r"^[0-9]{10}$" in patterns_found  # a CPR column's constraint
    assert visibility._NO_TITLE_REGEX in patterns_found


def test_every_pattern_means_the_same_to_the_database_and_to_python(named):
    differences = []
    for text in CORPUS:
        database = database_verdicts(text, named)
        python = python_verdicts(text, named)
        differences += [
            (name, text, database[name], python[name])
            for name in named
            if database[name] != python[name] and comparable(name, text)
        ]
    assert differences == [], f"on {connection.vendor}"


def test_the_corpus_exercises_each_pattern_both_ways(named):
    """Each pattern matches some text of the corpus and misses some (else the comparison
    above could not fail for it)."""
    verdicts = [python_verdicts(text, named) for text in CORPUS]
    one_sided = [
        name
        for name in named
        if all(v[name] for v in verdicts) or not any(v[name] for v in verdicts)
    ]
    assert one_sided == []


# Characters the patterns care about: digits, dashes, spaces of several kinds, Danish
# letters in both cases, punctuation and line breaks.
ALPHABET = st.sampled_from(
    [*"0123456789-\u2013 \u00a0\t\nAaPpÆæØøÅåéxfk.,?!:/()[]\\^", "fx", "passiv", "Afslag "]
)


@settings(max_examples=60, deadline=None)
@given(text=st.lists(ALPHABET, max_size=24).map("".join))
def test_generated_text_gets_the_same_verdicts(text):
    named = used_patterns()
    database, python = database_verdicts(text, named), python_verdicts(text, named)
    assert {n: v for n, v in database.items() if comparable(n, text)} == {
        n: v for n, v in python.items() if comparable(n, text)
    }
