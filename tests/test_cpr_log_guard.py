import logging

from tests.plugins import cpr_log_guard


def test_detects_valid_cpr_numbers_only():
    assert cpr_log_guard.cpr_numbers_in("party 010170-1234 and 0101701234") == [
        "0101701234",
        "0101701234",
    ]
    # 31 February is no date, and a longer digit run is no CPR number.
    assert cpr_log_guard.cpr_numbers_in("3102701234 or 12345678901") == []


def test_a_logged_cpr_is_recorded_before_any_filter(monkeypatch):
    leaks: list[str] = []
    monkeypatch.setattr(cpr_log_guard, "_leaks", leaks)
    logging.getLogger("tests.guard").warning("looked up %s", "0101701234")
    assert len(leaks) == 1
    assert "0101701234" not in leaks[0]
    assert "[CPR]" in leaks[0]
