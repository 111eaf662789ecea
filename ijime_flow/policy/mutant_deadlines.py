"""The deadline mutants (:mod:`.mutant_kinds`): ``deadline_dropped`` removes a deadline; ``deadline_lengthened``
gives it more time — ``same_day`` / ``immediately`` → ``P3D``, a duration × 3 — or, for a recurring deadline
(``every``), makes it recur one step less often:

- ``every: month`` → ``every: term``; with ``months``, one window over those months (``every: year``), or over
  one more month when a single month is listed (June → June–July: "in June" is each June and once in June);
- ``every: term`` → ``every: year``;
- ``every: year`` with ``months``: the window one month wider (September → September–October; when it ends in
  March, it starts a month earlier), and the months removed (any time in the school year).

A yearly deadline without ``months`` has nothing coarser left but its removal (``deadline_dropped``)."""

from __future__ import annotations

from collections.abc import Iterator

from ..language.models import DeadlineDef
from .mutant_context import Candidate, Context, DocPath, drop, edits, put, thrice

SCHOOL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)  # a school year's months, in order


def deadline_dropped(ctx: Context) -> Iterator[Candidate]:
    for path, deadline in ctx.deadlines():
        yield Candidate("deadline_dropped", deadline.id, (deadline.id,), f"期限「{deadline.id}」（{deadline.ja}）を外す",
                        f"deadline '{deadline.id}' ({deadline.en or deadline.ja}) removed", drop(path, prune=True))


def deadline_lengthened(ctx: Context) -> Iterator[Candidate]:
    for path, deadline in ctx.deadlines():
        if deadline.every is not None:
            yield from _coarser(path, deadline)
            continue
        longer = "P3D" if deadline.within in ("same_day", "immediately") else thrice(deadline.within)
        yield Candidate("deadline_lengthened", deadline.id, (deadline.id, longer),
                        f"期限「{deadline.id}」を {deadline.within} から {longer} に延ばす",
                        f"deadline '{deadline.id}' lengthened from {deadline.within} to {longer}", put((*path, "within"), longer))


def _months_ja(months: list[int]) -> str:
    return "・".join(f"{m}月" for m in months)


def _widened(months: list[int]) -> list[int] | None:
    """The window of ``months`` (first to last, in the school year) one month wider; None when it is the year."""
    listed = sorted(months, key=SCHOOL_MONTHS.index)
    first, last = SCHOOL_MONTHS.index(listed[0]), SCHOOL_MONTHS.index(listed[-1])
    if last + 1 < len(SCHOOL_MONTHS):
        return [*listed, SCHOOL_MONTHS[last + 1]]
    if first > 0:
        return [SCHOOL_MONTHS[first - 1], *listed]
    return None


def _coarser(path: DocPath, deadline: DeadlineDef) -> Iterator[Candidate]:
    kind, did, every, months = "deadline_lengthened", deadline.id, deadline.every, deadline.months
    assert every is not None
    if every == "month" and months is None:
        yield Candidate(kind, did, (did, "every_term"), f"期限「{did}」を毎月から毎学期にする",
                        f"deadline '{did}' recurs every term instead of every month", put((*path, "every"), "term"))
    elif every == "month" and months is not None:
        window = months if len(months) > 1 else _widened(months)
        if window is not None:
            yield Candidate(kind, did, (did, "every_year", *map(str, window)),
                            f"期限「{did}」を{_months_ja(months)}の毎月から{_months_ja(window)}の間に1回にする",
                            f"deadline '{did}': once within months {window} instead of each of {months}",
                            edits(put((*path, "every"), "year"), put((*path, "months"), window)))
    elif every == "term":
        yield Candidate(kind, did, (did, "every_year"), f"期限「{did}」を毎学期から毎年度にする",
                        f"deadline '{did}' recurs every school year instead of every term", put((*path, "every"), "year"))
    elif months is not None:
        wider = _widened(months)
        if wider is not None:
            yield Candidate(kind, did, (did, "months", *map(str, wider)),
                            f"期限「{did}」の月を{_months_ja(months)}から{_months_ja(wider)}に広げる",
                            f"deadline '{did}': months {months} widened to {wider}", put((*path, "months"), wider))
        yield Candidate(kind, did, (did, "any_month"),
                        f"期限「{did}」の月の指定（{_months_ja(months)}）を外す（年度中いつでもよい）",
                        f"deadline '{did}': months {months} removed (any time in the school year)", drop((*path, "months")))
