"""What policy authors write: dates in three notations, values, roles, refusal kinds."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import WORKFLOWS

from ijime_flow import GuardFailed, PermissionDenied, load_file
from ijime_flow.clock import TOKYO
from ijime_flow.policy.parse import deadline_status, parse_data, parse_moment, parse_value, refusal_kind, role_id

RESPONSE = load_file(WORKFLOWS / "response.yaml")


@pytest.mark.parametrize(("text", "expected"), [
    ("2019-05-01", datetime(2019, 5, 1, 12, 0, tzinfo=TOKYO)),
    ("2019-05-01 09:05", datetime(2019, 5, 1, 9, 5, tzinfo=TOKYO)),
    ("2019年5月1日", datetime(2019, 5, 1, 12, 0, tzinfo=TOKYO)),
    ("2019年5月1日 10:30", datetime(2019, 5, 1, 10, 30, tzinfo=TOKYO)),
    ("2019年5月1日 10時", datetime(2019, 5, 1, 10, 0, tzinfo=TOKYO)),
    ("2019年5月1日 10時30分", datetime(2019, 5, 1, 10, 30, tzinfo=TOKYO)),
    ("２０１９年５月１日 １０：３０", datetime(2019, 5, 1, 10, 30, tzinfo=TOKYO)),
    ("２０１９-０５-０１", datetime(2019, 5, 1, 12, 0, tzinfo=TOKYO)),
])
def test_dates(text: str, expected: datetime) -> None:
    assert parse_moment(text) == expected


@pytest.mark.parametrize("text", ["5月1日", "2019/05/01", "2019年2月30日", "昨日"])
def test_bad_dates_say_so(text: str) -> None:
    with pytest.raises(ValueError, match=r"date|日付"):
        parse_moment(text)


def test_values_by_fact_type() -> None:
    assert parse_value("はい", "bool") is True and parse_value("false", "bool") is False
    assert parse_value("２０１９年５月１３日", "date") == date(2019, 5, 13)
    assert parse_value("42") == 42 and parse_value('"42"') == "42" and parse_value("「理由」") == "理由"
    with pytest.raises(ValueError, match="true / false"):
        parse_value("たぶん", "bool")
    assert parse_data('bullying_recognised=true, reason="A, B"', RESPONSE) == {"bullying_recognised": True,
                                                                                "reason": "A, B"}
    assert parse_data("act_stopped_on=2019-05-13、online=いいえ", RESPONSE) == {
        "act_stopped_on": date(2019, 5, 13), "online": False}


@pytest.mark.parametrize(("text", "role"), [
    ("principal", "principal"), ("校長", "principal"), ("管理職", "administrator"),
    ("管理職（校長・教頭）", "administrator"), ("スクールカウンセラー", "counselor"), ("対策委員会", "committee"),
    ("教職員", "staff"), ("Principal", "principal"),
])
def test_roles_by_id_or_japanese_label(text: str, role: str) -> None:
    assert role_id(text, RESPONSE) == role


def test_fragments_and_unknown_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        role_id("委員会", RESPONSE)  # a fragment of 教育委員会 and of 校内いじめ問題対策委員会: no name
    with pytest.raises(ValueError, match="unknown"):
        role_id("用務員", RESPONSE)
    with pytest.raises(ValueError, match="unknown"):
        role_id("教頭（代理）", RESPONSE)


def test_refusal_kinds_and_statuses() -> None:
    assert refusal_kind("権限がない") is PermissionDenied and refusal_kind("GuardFailed") is GuardFailed
    assert deadline_status("期限内に実施") == "met" and deadline_status("overdue") == "overdue"
    with pytest.raises(ValueError):
        refusal_kind("だめ")
