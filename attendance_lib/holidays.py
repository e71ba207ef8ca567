"""Easter and the bank holidays of England (and Wales).

One concept: the public holidays that move school terms and the DfE census terms
(domain.md 2.2, 7). Rules from the Banking and Financial Dealings Act 1971 and royal
proclamations, as listed at gov.uk/bank-holidays; the one-off and moved days are kept as data
below. :mod:`attendance_lib.calendar` re-exports these names.

Examples
--------
>>> easter_sunday(2025), spring_bank_holiday(2025)
(datetime.date(2025, 4, 20), datetime.date(2025, 5, 26))
>>> len(england_bank_holidays(2023))
9
"""

from __future__ import annotations

from datetime import date, timedelta

from attendance_lib._dates import DAY

__all__ = ["easter_sunday", "spring_bank_holiday", "england_bank_holidays"]

_FIRST_RULE_YEAR = 1978  # first year with the early May bank holiday in England
_EARLY_MAY_MOVED = {1995: date(1995, 5, 8), 2020: date(2020, 5, 8)}  # VE Day 50th / 75th
_SPRING_MOVED = {2002: date(2002, 6, 4), 2012: date(2012, 6, 4), 2022: date(2022, 6, 2)}  # jubilees
_EXTRA_HOLIDAYS = {
    1981: (date(1981, 7, 29),),  # royal wedding
    1999: (date(1999, 12, 31),),  # millennium
    2002: (date(2002, 6, 3),),  # golden jubilee
    2011: (date(2011, 4, 29),),  # royal wedding
    2012: (date(2012, 6, 5),),  # diamond jubilee
    2022: (date(2022, 6, 3), date(2022, 9, 19)),  # platinum jubilee; state funeral
    2023: (date(2023, 5, 8),),  # coronation
}


def easter_sunday(year: int) -> date:
    """Easter Sunday by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm.

    Examples
    --------
    >>> easter_sunday(2024), easter_sunday(2026)
    (datetime.date(2024, 3, 31), datetime.date(2026, 4, 5))
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_monday(year: int, month: int, last: bool = False) -> date:
    if last:
        d = date(year + (month == 12), month % 12 + 1, 1) - DAY
        return d - timedelta(days=d.weekday())
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def spring_bank_holiday(year: int) -> date:
    """The spring bank holiday: last Monday in May, moved in jubilee years (2002, 2012, 2022).

    Examples
    --------
    >>> spring_bank_holiday(2024), spring_bank_holiday(2022)
    (datetime.date(2024, 5, 27), datetime.date(2022, 6, 2))
    """
    return _SPRING_MOVED.get(year) or _nth_monday(year, 5, last=True)


def _substituted(days: list[date]) -> list[date]:
    """Weekday holidays stay; weekend ones move to the next weekday not already a holiday."""
    taken = {d for d in days if d.weekday() < 5}
    for d in days:
        if d.weekday() >= 5:
            sub = d
            while sub.weekday() >= 5 or sub in taken:
                sub += DAY
            taken.add(sub)
    return sorted(taken)


def england_bank_holidays(year: int) -> list[date]:
    """Bank holidays in England (and Wales) in a calendar year, with substitute days, sorted.

    New Year's Day, Good Friday, Easter Monday, early May (first Monday; Fri 8 May 2020, Mon 8
    May 1995), spring (:func:`spring_bank_holiday`), summer (last Monday in August), Christmas and
    Boxing Day, plus one-off days (1981, 1999, 2002, 2011, 2012, 2022 jubilee and state funeral,
    2023 coronation). A holiday on a weekend is replaced by the next weekday that is not already
    a holiday. Valid from 1978; future one-off days are unknown.

    Examples
    --------
    >>> [d.isoformat() for d in england_bank_holidays(2021)][-2:]
    ['2021-12-27', '2021-12-28']
    """
    if year < _FIRST_RULE_YEAR:
        raise ValueError(f"bank holiday rules are encoded from {_FIRST_RULE_YEAR}, not {year}")
    easter = easter_sunday(year)
    fixed = _substituted([date(year, 1, 1)]) + _substituted(
        [date(year, 12, 25), date(year, 12, 26)]
    )
    moving = [
        easter - 2 * DAY,
        easter + DAY,
        _EARLY_MAY_MOVED.get(year) or _nth_monday(year, 5),
        spring_bank_holiday(year),
        _nth_monday(year, 8, last=True),
        *_EXTRA_HOLIDAYS.get(year, ()),
    ]
    return sorted(set(fixed + moving))
