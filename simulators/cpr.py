"""Synthetic CPR numbers that pass ``stdnum.dk.cpr`` and are unlikely to be real.

python-stdnum accepts a CPR number whose date (with the century the 7th digit
gives) is real and not in the future; it does not check modulus 11, because
numbers without it have been issued since 2007. Future birth dates would be
safest, but stdnum rejects them. So we use real-looking past birth dates
(1935 - September 2007) and always choose the last digit so the modulus-11
check FAILS: the CPR office issued only modulus-11 numbers until 2007, so for
people born before then a collision needs a number issued after 2007 to
someone born earlier (immigrants), which is rare. It is "unlikely", not
"impossible" — see docs/sources.md.

The numbering is a bijection from a non-negative index to a number, so a
population of millions has no duplicates without a lookup table.
"""

import datetime

FIRST_BIRTH_DATE = datetime.date(1935, 1, 1)
# The last birth date before non-modulus-11 numbers were issued (1 October 2007).
LAST_BIRTH_DATE = datetime.date(2007, 9, 30)
DAYS = (LAST_BIRTH_DATE - FIRST_BIRTH_DATE).days + 1
WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
# Per date: 4 century digits (always allowed for the year) x 100 middle pairs x
# 2 last digits of the wanted sex that fail modulus 11 (there are always ≥ 4).
PER_DAY_PER_SEX = 4 * 100 * 2
CAPACITY_PER_SEX = DAYS * PER_DAY_PER_SEX


def century_digits(year: int) -> tuple[str, str, str, str]:
    """Four 7th digits that give ``year``'s century in stdnum and the CPR office's rules."""
    if year < 2000:
        return ("0", "1", "2", "3")  # 1900-1999 for any two-digit year
    return ("4", "9", "5", "6")  # 2000-2036 (4, 9) and 2000-2057 (5-8)


def checksum(number: str) -> int:
    """The classic modulus-11 weighted sum; 0 means the check passes."""
    return sum(w * int(n) for w, n in zip(WEIGHTS, number, strict=True)) % 11


def _last_digits(first_nine: str, *, male: bool) -> list[str]:
    """Last digits of the right parity (odd = male) for which modulus 11 fails."""
    partial = sum(w * int(n) for w, n in zip(WEIGHTS[:9], first_nine, strict=True))
    parity = 1 if male else 0
    return [str(d) for d in range(parity, 10, 2) if (partial + d) % 11 != 0]


def cpr_for_index(index: int, *, male: bool) -> str:
    """The ``index``-th synthetic CPR number (10 digits, no dash) of the given sex.

    Distinct indexes give distinct numbers; ``index`` must be below
    ``CAPACITY_PER_SEX``. Consecutive indexes land on dates a prime stride apart,
    so small populations still spread over all ages.
    """
    if not 0 <= index < CAPACITY_PER_SEX:
        raise ValueError(f"index must be in [0, {CAPACITY_PER_SEX})")
    day_slot, rest = index % DAYS, index // DAYS
    # 7919 is prime and does not divide DAYS, so this permutes the days.
    birth = FIRST_BIRTH_DATE + datetime.timedelta(days=(day_slot * 7919) % DAYS)
    century = century_digits(birth.year)[rest % 4]
    rest //= 4
    middle = f"{rest % 100:02d}"
    rest //= 100
    first_nine = f"{birth:%d%m%y}{century}{middle}"
    return first_nine + _last_digits(first_nine, male=male)[rest]


def birth_date_of(cpr: str) -> datetime.date:
    """The birth date a (synthetic or real) CPR number encodes (stdnum's rule)."""
    from stdnum.dk import cpr as stdnum_cpr

    return stdnum_cpr.get_birth_date(cpr)


def cpr_mask(cpr: str) -> str:
    """``DDMMYY-****``: the most of a CPR number that may be shown."""
    return f"{cpr[:6]}-****" if cpr else ""
