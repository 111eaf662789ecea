"""Absence thresholds: 30 days in a school year / rolling 365 days, and runs of consecutive school days."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ijime_flow.calendars.absence import AbsenceFinding, SchoolCalendar, count_threshold, run_threshold, school_year

D = timedelta(days=1)
WEEKDAYS = SchoolCalendar()


def weekdays_from(start: date, n: int, calendar: SchoolCalendar = WEEKDAYS) -> list[date]:
    out: list[date] = []
    day = start
    while len(out) < n:
        if calendar.is_school_day(day):
            out.append(day)
        day += D
    return out


def record_count(days: list[date], threshold: int, window: str) -> list[tuple[date, AbsenceFinding | None]]:
    """Record days one by one, as a workflow would: ask about each day given the ones before it."""
    seen: list[date] = []
    out: list[tuple[date, AbsenceFinding | None]] = []
    for day in days:
        out.append((day, count_threshold(seen, day, threshold, window)))
        seen.append(day)
    return out


def record_runs(days: list[date], threshold: int, calendar: SchoolCalendar) -> list[tuple[date, AbsenceFinding | None]]:
    seen: list[date] = []
    out: list[tuple[date, AbsenceFinding | None]] = []
    for day in days:
        out.append((day, run_threshold(seen, day, threshold, calendar)))
        seen.append(day)
    return out


# --- school_year ---------------------------------------------------------------------------------


def test_school_year_boundaries() -> None:
    assert school_year(date(2019, 3, 31)) == 2018
    assert school_year(date(2019, 4, 1)) == 2019
    assert school_year(date(2020, 3, 31)) == 2019
    assert school_year(date(2019, 12, 31)) == 2019
    assert school_year(date(2020, 1, 1)) == 2019


def test_thirtieth_day_in_school_year_is_found_exactly_once() -> None:
    days = weekdays_from(date(2019, 4, 15), 30)
    results = record_count(days, 30, "school_year")
    assert all(f is None for _, f in results[:29])
    finding = results[29][1]
    assert finding is not None
    assert finding.rule == "school_year"
    assert finding.count == 30
    assert finding.first == days[0]
    assert finding.last == days[29]
    assert finding.period == "school year 2019"
    # the same 30th date recorded again: nothing new
    assert count_threshold(days, days[29], 30, "school_year") is None
    # and a 31st date: already reached
    assert count_threshold(days, days[29] + 7 * D, 30, "school_year") is None


def test_same_date_recorded_twice_counts_once() -> None:
    days = weekdays_from(date(2019, 4, 15), 29)
    doubled = [d for day in days for d in (day, day)]
    assert all(f is None for _, f in record_count(doubled, 30, "school_year"))
    finding = count_threshold(doubled, days[-1] + 7 * D, 30, "school_year")
    assert finding is not None and finding.count == 30
    # a duplicate is never the day that makes it, in either window
    assert count_threshold(days, days[5], 29, "school_year") is None
    assert count_threshold(days, days[5], 29, "rolling_365") is None


def test_split_across_school_years_only_rolling_finds() -> None:
    march = [date(2019, 3, d) for d in range(1, 21)]  # school year 2018
    april = [date(2019, 4, d) for d in range(1, 11)]  # school year 2019
    days = march + april
    assert all(f is None for _, f in record_count(days, 30, "school_year"))
    rolling = record_count(days, 30, "rolling_365")
    assert all(f is None for _, f in rolling[:29])
    day, finding = rolling[29]
    assert day == date(2019, 4, 10)
    assert finding is not None
    assert (finding.rule, finding.count, finding.first, finding.last) == ("rolling_365", 30, date(2019, 3, 1), date(2019, 4, 10))
    assert finding.period == "365 days to 2019-04-10"


def test_rolling_window_is_365_days_inclusive() -> None:
    old = date(2019, 4, 11)
    new = old + timedelta(days=364)  # old is the first day of new's window
    assert count_threshold([old], new, 2, "rolling_365") is not None
    assert count_threshold([old - D], new, 2, "rolling_365") is None


def test_out_of_order_dates_count_in_their_school_year() -> None:
    later = [date(2019, 6, d) for d in range(1, 3)]
    finding = count_threshold(later, date(2019, 5, 1), 3, "school_year")
    assert finding is not None
    assert (finding.count, finding.first, finding.last) == (3, date(2019, 5, 1), date(2019, 6, 2))
    # a later date in another school year does not count
    assert count_threshold([date(2020, 4, 1), date(2020, 4, 2)], date(2020, 3, 31), 3, "school_year") is None


def test_rolling_out_of_order_late_date_completes_a_later_window() -> None:
    # 2019-01-10 recorded first, then 2019-01-05 recorded late: the window ending 2019-01-10 now holds 2
    finding = count_threshold([date(2019, 1, 10)], date(2019, 1, 5), 2, "rolling_365")
    assert finding is not None
    assert (finding.first, finding.last, finding.count) == (date(2019, 1, 5), date(2019, 1, 10), 2)
    assert finding.period == "365 days to 2019-01-10"


def test_rolling_out_of_order_does_not_find_twice() -> None:
    # 2019-01-01 .. 01-02 and 01-04 recorded: the window ending 01-04 already holds 3
    seen = [date(2019, 1, 1), date(2019, 1, 2), date(2019, 1, 4)]
    assert count_threshold(seen, date(2019, 1, 3), 3, "rolling_365") is None


def test_rolling_finds_again_after_the_count_fell_back() -> None:
    # threshold 2: reached on 2019-01-02, the 365 days ending 2020-01-01 hold only 2019-01-02 until 2020-01-01 is added
    assert count_threshold([date(2019, 1, 1)], date(2019, 1, 2), 2, "rolling_365") is not None
    assert count_threshold([date(2019, 1, 1), date(2019, 1, 2)], date(2020, 1, 1), 2, "rolling_365") is not None


def test_threshold_one_finds_the_first_date() -> None:
    finding = count_threshold([], date(2019, 5, 1), 1, "school_year")
    assert finding is not None and finding.count == 1 and finding.first == finding.last == date(2019, 5, 1)


@pytest.mark.parametrize("threshold", [0, -1])
def test_bad_threshold(threshold: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        count_threshold([], date(2019, 5, 1), threshold, "school_year")
    with pytest.raises(ValueError, match="threshold"):
        run_threshold([], date(2019, 5, 1), threshold, WEEKDAYS)


def test_unknown_window() -> None:
    with pytest.raises(ValueError, match="unknown window"):
        count_threshold([], date(2019, 5, 1), 30, "calendar_year")


def test_bad_weekend_number() -> None:
    with pytest.raises(ValueError, match="weekend"):
        SchoolCalendar(weekends=frozenset({7}))


# --- consecutive school days ----------------------------------------------------------------------

MON = date(2019, 6, 3)  # a Monday
assert MON.weekday() == 0


def test_run_across_weekend_reaches_seven_on_tuesday() -> None:
    days = [MON + i * D for i in range(5)] + [MON + 7 * D, MON + 8 * D]  # Mon..Fri, Mon, Tue
    results = record_runs(days, 7, WEEKDAYS)
    assert all(f is None for _, f in results[:6])
    day, finding = results[6]
    assert day.weekday() == 1
    assert finding is not None
    assert (finding.rule, finding.count, finding.first, finding.last) == ("consecutive", 7, MON, MON + 8 * D)
    assert finding.period == "consecutive school days"
    # Wednesday extends an already-reached run: no second finding; Tuesday again: nothing
    assert run_threshold(days, MON + 9 * D, 7, WEEKDAYS) is None
    assert run_threshold(days, MON + 8 * D, 7, WEEKDAYS) is None


def test_closure_day_does_not_break_a_run() -> None:
    wednesday = MON + 2 * D
    calendar = SchoolCalendar(closures=frozenset({wednesday}))
    days = [MON, MON + D, MON + 3 * D, MON + 4 * D, MON + 7 * D, MON + 8 * D, MON + 9 * D]  # all but the holiday
    results = record_runs(days, 7, calendar)
    assert all(f is None for _, f in results[:6])
    finding = results[6][1]
    assert finding is not None and finding.count == 7 and finding.first == MON and finding.last == MON + 9 * D
    # without the closure listed, Wednesday is a school day attended: the run breaks
    assert all(f is None for _, f in record_runs(days, 7, WEEKDAYS))


def test_school_day_attended_breaks_a_run() -> None:
    days = [MON + i * D for i in range(4)] + [MON + i * D for i in range(7, 12)]  # Friday attended
    assert all(f is None for _, f in record_runs(days, 7, WEEKDAYS))
    # absent on the Friday after all (recorded late): 4 + 1 + 5 = a run of 10
    finding = run_threshold(days, MON + 4 * D, 7, WEEKDAYS)
    assert finding is not None and finding.count == 10


def test_absence_on_saturday_counts_for_nothing() -> None:
    days = [MON + i * D for i in range(5)]  # Mon..Fri
    saturday = MON + 5 * D
    assert run_threshold(days, saturday, 1, WEEKDAYS) is None
    assert run_threshold(days, saturday, 6, WEEKDAYS) is None
    # with Saturday recorded, Monday still makes only 6
    finding = run_threshold([*days, saturday], MON + 7 * D, 6, WEEKDAYS)
    assert finding is not None and finding.count == 6
    assert run_threshold([*days, saturday], MON + 7 * D, 7, WEEKDAYS) is None


def test_absence_on_closure_day_counts_for_nothing() -> None:
    calendar = SchoolCalendar(closures=frozenset({MON}))
    assert run_threshold([], MON, 1, calendar) is None


def test_middle_day_recorded_last_finds_the_run_once() -> None:
    run = weekdays_from(MON, 7)
    order = run[:3] + run[4:] + [run[3]]
    results = record_runs(order, 7, WEEKDAYS)
    assert all(f is None for _, f in results[:6])
    finding = results[6][1]
    assert finding is not None and (finding.count, finding.first, finding.last) == (7, run[0], run[-1])
    assert run_threshold(order, run[3], 7, WEEKDAYS) is None


def test_two_reached_runs_joined_late_give_no_third_finding() -> None:
    # threshold 2: Mon+Tue reach it, Thu+Fri reach it, Wednesday recorded late joins them: nothing new
    results = record_runs([MON, MON + D, MON + 3 * D, MON + 4 * D, MON + 2 * D], 2, WEEKDAYS)
    assert [f is not None for _, f in results] == [False, True, False, True, False]


def test_describe_mentions_count_and_dates() -> None:
    days = weekdays_from(date(2019, 4, 15), 30)
    finding = count_threshold(days[:29], days[29], 30, "school_year")
    assert finding is not None
    text = finding.describe()
    assert "30" in text and days[0].isoformat() in text and days[29].isoformat() in text
    assert "2019年度" in text and "school year 2019" in text
    run = weekdays_from(MON, 7)
    consecutive = run_threshold(run[:6], run[6], 7, WEEKDAYS)
    assert consecutive is not None
    text = consecutive.describe()
    assert "7" in text and run[0].isoformat() in text and run[6].isoformat() in text
    rolling = AbsenceFinding("rolling_365", 30, date(2019, 3, 1), date(2019, 4, 10), "365 days to 2019-04-10")
    assert rolling.describe() == (
        "2019-04-10までの365日間に欠席30日（2019-03-01〜2019-04-10） / "
        "30 absent days in 365 days to 2019-04-10: 2019-03-01 ... 2019-04-10"
    )


# --- properties -----------------------------------------------------------------------------------

START = date(2019, 2, 1)
SPAN = 500  # covers school years 2018, 2019, 2020

date_offsets = st.integers(min_value=0, max_value=SPAN)


def maximal_runs(absent: set[date], calendar: SchoolCalendar) -> list[int]:
    """Lengths of the maximal runs of absent school days, computed straight from the calendar."""
    school = [d for d in absent if calendar.is_school_day(d)]
    if not school:
        return []
    lengths: list[int] = []
    current = 0
    day = min(school)
    while day <= max(school):
        if calendar.is_school_day(day):
            if day in absent:
                current += 1
            elif current:
                lengths.append(current)
                current = 0
        day += D
    lengths.append(current)
    return lengths


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(date_offsets, max_size=60),
    threshold=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_school_year_finding_once_per_year(offsets: list[int], threshold: int, data: st.DataObject) -> None:
    days = [START + o * D for o in offsets]
    days = days + data.draw(st.lists(st.sampled_from(days), max_size=10)) if days else days  # some recorded twice
    days = data.draw(st.permutations(days))
    findings = [f for _, f in record_count(days, threshold, "school_year") if f is not None]
    per_year: dict[int, int] = {}
    for d in set(days):
        per_year[school_year(d)] = per_year.get(school_year(d), 0) + 1
    assert len(findings) == sum(1 for n in per_year.values() if n >= threshold)
    assert len({school_year(f.first) for f in findings}) == len(findings)
    for f in findings:
        assert f.count == threshold and school_year(f.first) == school_year(f.last)


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60), max_size=40),
    threshold=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_rolling_in_date_order_is_the_365_days_ending_at_the_day(offsets: list[int], threshold: int, data: st.DataObject) -> None:
    spread = data.draw(st.integers(min_value=1, max_value=20))  # spread dates over up to ~3 years
    days = sorted({START + o * spread * D for o in offsets})
    for day, finding in record_count(days, threshold, "rolling_365"):
        window = [d for d in days if day - 364 * D <= d <= day]
        expected = len(window) == threshold
        assert (finding is not None) == expected
        if finding is not None:
            assert (finding.count, finding.first, finding.last) == (threshold, window[0], day)


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=70), max_size=45),
    closures=st.sets(st.integers(min_value=0, max_value=70), max_size=10),
    weekends=st.sets(st.integers(min_value=0, max_value=6), max_size=3),
    threshold=st.integers(min_value=1, max_value=7),
    data=st.data(),
)
def test_run_findings_bounded_by_maximal_runs(
    offsets: list[int], closures: set[int], weekends: set[int], threshold: int, data: st.DataObject
) -> None:
    calendar = SchoolCalendar(weekends=frozenset(weekends), closures=frozenset(START + c * D for c in closures))
    days = [START + o * D for o in offsets]
    days = days + data.draw(st.lists(st.sampled_from(days), max_size=5)) if days else days
    runs = maximal_runs(set(days), calendar)
    reaching = sum(1 for n in runs if n >= threshold)

    # in date order: exactly one finding per maximal run reaching the threshold
    in_order = [f for _, f in record_runs(sorted(days), threshold, calendar) if f is not None]
    assert len(in_order) == reaching

    # in any order: at least one per run reaching it, never more than fit side by side in the final runs
    shuffled = data.draw(st.permutations(days))
    findings = [f for _, f in record_runs(shuffled, threshold, calendar) if f is not None]
    assert reaching <= len(findings) <= sum(n // threshold for n in runs)
    for f in findings:
        assert f.count >= threshold
        assert calendar.is_school_day(f.first) and calendar.is_school_day(f.last)
    # findings are disjoint stretches of time
    spans = sorted((f.first, f.last) for f in findings)
    assert all(a[1] < b[0] for a, b in pairwise(spans))
