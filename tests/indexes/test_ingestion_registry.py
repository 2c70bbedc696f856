"""The ingestion engine and its per-kind handlers (``indexes.services.ingestion``)."""

import ast
from pathlib import Path

import pytest

from indexes import selectors
from indexes.services import ingestion
from indexes.services.ingestion import engine

KINDS = set(selectors.MODELS)


def test_every_record_kind_has_one_handler_with_its_model():
    assert set(engine.HANDLERS) == KINDS
    for kind, handler in engine.HANDLERS.items():
        assert handler.kind == kind
        assert handler.model is selectors.MODELS[kind]


def test_the_kinds_are_listed_alphabetically_as_the_api_shows_them():
    assert ingestion.RECORD_KINDS == ("case", "document", "grant", "payment")


def test_a_batch_is_applied_after_the_records_it_names():
    """Documents and grants name cases, payments name grants (SF1470; the benefit index)."""
    order = list(engine.HANDLERS)
    assert order.index("case") < order.index("grant") < order.index("payment")
    assert order.index("case") < order.index("document")


def test_a_kind_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered already"):
        engine.register(engine.HANDLERS["case"])
    assert list(engine.HANDLERS) == ["case", "grant", "document", "payment"]


def test_the_engine_names_no_kind():
    """What differs per kind lives in its handler: the engine has no branch on a kind's name."""
    tree = ast.parse(Path(engine.__file__).read_text())
    named = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert named & KINDS == set()
