"""The recurring-deadline rule (``deadline: {every: month | term | year, months: [...]}``) and the deadline mutants
of a recurring deadline, on real copies of workflows/school_year.yaml checked against rules/school_year.yaml:
a coarser copy fails, a stricter or merely different one (two terms, extra duties) passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, WORKFLOWS

from ijime_flow.language.loader import load_text
from ijime_flow.policy.mutants import make_mutants
from ijime_flow.policy.mutation import mutate
from ijime_flow.policy.rule_check import check_rules
from ijime_flow.policy.rules import load_rules, load_rules_text
from ijime_flow.policy.static_checks import not_longer

TEXT = (WORKFLOWS / "school_year.yaml").read_text(encoding="utf-8")
RULES = load_rules(ROOT / "rules" / "school_year.yaml")


def failed(text: str) -> set[str]:
    """The rules of rules/school_year.yaml that a copy of the workflow breaks."""
    report = check_rules(load_text(text, "copy.yaml"), RULES)
    return {r.rule.id for r in report.results if r.status == "fail"}


def deadline(text: str, deadline_id: str, new: str) -> str:
    """``text`` with the deadline ``deadline_id``'s recurrence (``every: ...`` and any ``months``) replaced by ``new``."""
    start = text.index(f"{{id: {deadline_id},")
    end = text.index("}", text.index("met_by", start))
    body = re.sub(r",\s*every: \w+(?:, months: \[[0-9, ]+\])?$", "", text[start:end])
    assert body != text[start:end]
    return text[:start] + body + (f", {new}" if new else "") + text[end:]


def test_the_school_year_passes_every_rule() -> None:
    assert failed(TEXT) == set()


@pytest.mark.parametrize(("deadline_id", "new", "rule"), [
    ("committee_meets_monthly", "every: term", "committee_meets_every_month"),
    ("committee_meets_monthly", "every: year", "committee_meets_every_month"),
    ("committee_meets_monthly", "every: month, months: [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2]", "committee_meets_every_month"),
    ("survey_each_term", "every: year", "survey_at_least_once_a_term"),
    ("citywide_survey_in_september", "every: year, months: [9, 10]", "citywide_survey_in_september"),
    ("citywide_survey_in_september", "every: year", "citywide_survey_in_september"),
    ("citywide_survey_in_september", "every: year, months: [10]", "citywide_survey_in_september"),
    ("citywide_survey_in_september", "every: term", "citywide_survey_in_september"),
    ("interviews_after_survey", "every: year, months: [9, 10, 11]", "interviews_by_end_of_october"),
    ("interviews_after_survey", "every: year, months: [8, 9, 10]", "interviews_by_end_of_october"),
    ("committee_launched_in_april", "every: year, months: [4, 5]", "committee_launched_in_april"),
    ("year_reviewed_by_year_end", "within: P2Y", "year_reviewed_before_year_end"),  # not recurring at all
])
def test_a_coarser_recurrence_fails_its_rule(deadline_id: str, new: str, rule: str) -> None:
    assert rule in failed(deadline(TEXT, deadline_id, new))


@pytest.mark.parametrize(("deadline_id", "new"), [
    ("survey_each_term", "every: month"),
    ("counselling_each_term", "every: month"),
    ("parent_survey_each_year", "every: term"),
    ("parent_survey_each_year", "every: year, months: [6]"),
    ("citywide_survey_in_september", "every: month, months: [9]"),
    ("interviews_after_survey", "every: year, months: [9]"),
    ("interviews_after_survey", "every: year, months: [10]"),
    ("interviews_after_survey", "every: month, months: [10]"),
    ("year_reviewed_by_year_end", "every: term"),
    ("year_reviewed_by_year_end", "every: year, months: [3]"),
])
def test_a_stricter_recurrence_passes(deadline_id: str, new: str) -> None:
    assert failed(deadline(TEXT, deadline_id, new)) == set()


def test_a_deadline_another_step_also_meets_does_not_count() -> None:
    """The city-wide survey is not required in September when a termly questionnaire could meet that deadline too."""
    assert TEXT.count("met_by: [conduct_citywide_survey],") == 1
    text = TEXT.replace("met_by: [conduct_citywide_survey],", "met_by: [conduct_citywide_survey, conduct_survey],")
    assert "citywide_survey_in_september" in failed(text)


def test_a_school_with_two_terms_passes_and_one_term_fails() -> None:
    two = re.sub(r"  terms:\n(?:    - .*\n)+",
                 '  terms:\n    - {id: term_1, ja: 前期, en: First term, from: "04-01", to: "09-30"}\n'
                 '    - {id: term_2, ja: 後期, en: Second term, from: "10-01", to: "03-31"}\n', TEXT)
    assert "前期" in two
    assert failed(two) == set()
    one = re.sub(r"  terms:\n(?:    - .*\n)+", '  terms:\n    - {id: term_1, ja: 通年, from: "04-01", to: "03-31"}\n', TEXT)
    assert {"survey_at_least_once_a_term", "counselling_at_least_once_a_term"} <= failed(one)


def test_a_term_without_a_whole_month_is_not_met_by_a_monthly_duty() -> None:
    """Monthly is stricter than termly only when each term holds a whole month: a term of 10–25 May holds none."""
    rules = load_rules_text("rules_for: school_year\nrules:\n  - {id: t, ja: 学期ごと, source: '5',\n"
                            "     deadline: {state: in_year, met_by: hold_committee_meeting, every: term}}\n")
    odd = re.sub(r"  terms:\n(?:    - .*\n)+",
                 '  terms:\n    - {id: term_1, ja: 短い学期, from: "05-10", to: "05-25"}\n'
                 '    - {id: term_2, ja: 長い学期, from: "06-01", to: "03-31"}\n', TEXT)
    report = check_rules(load_text(odd, "odd.yaml"), rules)
    assert [r.status for r in report.results] == ["fail"]
    assert [r.status for r in check_rules(load_text(TEXT, "ok.yaml"), rules).results] == ["pass"]


def test_extra_duties_and_deadlines_do_not_fail_the_rules() -> None:
    extra = TEXT.replace("  reviewed:\n", "      - {id: extra_weekly, ja: 追加の取組, source: \"5\", met_by: [hold_sst_lesson],"
                         " every: month}\n  reviewed:\n", 1)
    extra += ("  - {trigger: hold_extra_patrol, ja: 追加の見回り, source: \"3(2)③\", from: \"*\", roles: [staff]}\n")
    assert "extra_weekly" in extra
    assert failed(extra) == set()


def test_a_missing_deadline_fails_with_a_counterexample_that_names_the_period_end() -> None:
    text = deadline(TEXT, "committee_meets_monthly", "every: term")
    report = check_rules(load_text(text, "copy.yaml"), RULES)
    result = next(r for r in report.results if r.rule.id == "committee_meets_every_month")
    assert result.status == "fail" and result.counterexample is not None
    assert "every: month" in result.message
    assert result.counterexample.detail["check_at"] == "2019-06-01 00:01"  # the end of May (the case opens on 13 May)


def test_the_rule_model_takes_within_or_every() -> None:
    for bad in ("{state: s, met_by: t}", "{state: s, met_by: t, within: P1D, every: month}",
                "{state: s, met_by: t, every: term, months: [9]}", "{state: s, met_by: t, every: year, months: [9, 9]}"):
        with pytest.raises(Exception, match=r"within|months"):
            load_rules_text(f"rules_for: x\nrules:\n  - {{id: r, ja: あ, source: '5', deadline: {bad}}}\n")


@pytest.mark.parametrize(("within", "limit", "expected"), [
    ("end_of_month", "end_of_term", True), ("end_of_term", "end_of_year", True), ("end_of_year", "end_of_month", False),
    ("end_of_term", "end_of_term", True), ("end_of_month", "P1D", False), ("P1D", "end_of_year", False),
    ("same_day", "P1D", True),
])
def test_not_longer_compares_recurring_deadlines_by_their_periods_and_never_with_durations(
        within: str, limit: str, expected: bool) -> None:
    assert not_longer(within, limit) is expected


def test_deadline_lengthened_makes_each_recurring_deadline_coarser() -> None:
    made = make_mutants(TEXT, kinds=["deadline_lengthened"])
    ids = {m.id for m in made.mutants}
    assert {"deadline_lengthened:committee_meets_monthly:every_term", "deadline_lengthened:survey_each_term:every_year",
            "deadline_lengthened:citywide_survey_in_september:months:9:10",
            "deadline_lengthened:citywide_survey_in_september:any_month",
            "deadline_lengthened:interviews_after_survey:months:9:10:11"} <= ids
    assert not any("parent_survey_each_year" in i or "year_reviewed_by_year_end" in i for i in ids)  # nothing coarser
    assert not made.invalid


def test_deadline_lengthened_of_a_month_list_and_of_march() -> None:
    text = deadline(TEXT, "committee_meets_monthly", "every: month, months: [6]")
    text = deadline(text, "awareness_month_in_september", "every: year, months: [2, 3]")
    made = {m.id: m for m in make_mutants(text, kinds=["deadline_lengthened"]).mutants}
    once = made["deadline_lengthened:committee_meets_monthly:every_year:6:7"]
    spec = next(d for ds in once.definition.deadline_defs.values() for d in ds if d.id == "committee_meets_monthly")
    assert (spec.every, spec.months) == ("year", [6, 7])
    assert "deadline_lengthened:awareness_month_in_september:months:1:2:3" in made  # ends in March: a month earlier


def test_every_mutant_of_the_school_year_is_killed() -> None:
    report = mutate(TEXT, [RULES], file=str(WORKFLOWS / "school_year.yaml"))
    assert report.results and not report.survivors(), [m.id for m in report.survivors()]
    kinds = report.by_kind()
    assert kinds["deadline_lengthened"] == (14, 14) and kinds["deadline_dropped"] == (12, 12)


def test_the_features_run_and_fail_on_a_coarser_copy(tmp_path: Path) -> None:
    from ijime_flow.policy.check import run_check

    feature = ROOT / "features" / "school_year.feature"
    good = run_check(WORKFLOWS / "school_year.yaml", [feature])
    assert good.ok and good.passed >= 20, good.output
    copy = tmp_path / "school_year.yaml"
    copy.write_text(deadline(TEXT, "committee_meets_monthly", "every: term"), encoding="utf-8")
    bad = run_check(copy, [feature])
    names = {r.name for r in bad.results if r.status == "fail"}
    assert "6月に定例会を開かなかった委員会は7月1日に期限超過になる" in names


OPENS = "opens: {workflow: response, facts: {discovered_through: school_survey}}"


@pytest.mark.parametrize(("new", "fails"), [
    ("", True),                                                                        # opens nothing
    ("opens: {workflow: response, facts: {}}", True),                                  # not found through the survey
    ("opens: {workflow: response, facts: {discovered_through: victim}}", True),       # another way of finding it
    ("opens: {workflow: serious_incident, facts: {discovered_through: school_survey}}", True),
    ("opens: {workflow: response, facts: {discovered_through: school_survey, grade: 2}}", False),  # more: fine
])
def test_a_concern_must_open_a_response_case_found_through_the_survey(new: str, fails: bool) -> None:
    assert OPENS in TEXT
    copy = TEXT.replace(", " + OPENS, ", " + new if new else "") if f", {OPENS}" in TEXT else TEXT.replace(
        f"    {OPENS}\n", f"    {new}\n" if new else "")
    assert copy != TEXT
    rule = load_rules_text("rules_for: school_year\nrules:\n  - id: opens_check\n    ja: 事案を開く\n    source: \"3(2)①\"\n"
                           "    opens: {trigger: report_concern, workflow: response,\n"
                           "            facts: {discovered_through: school_survey}}\n")
    report = check_rules(load_text(copy, "copy.yaml"), rule)
    assert ({r.rule.id for r in report.results if r.status == "fail"} == {"opens_check"}) is fails
    assert ("concern_opens_a_case_found_through_the_survey" in failed(copy)) is fails
