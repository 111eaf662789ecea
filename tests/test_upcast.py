"""Upcasting: old event formats are read in the current one, in memory; the stored text is never
rewritten, and its hash still verifies."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import STAFF, WORKFLOWS, jst

from ijime_flow import Engine, FixedClock, StoreError
from ijime_flow import events as events_module
from ijime_flow.events import parse_event


def test_an_unknown_format_is_refused_plainly() -> None:
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="s-1")
    engine.load(WORKFLOWS)
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
    text = engine.store.read_case(case.id)[0].body.replace('"format":2', '"format":7')
    with pytest.raises(StoreError, match="format 7"):
        parse_event(text, case.id, 1)


def test_an_old_format_is_read_through_its_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    """Format 2 (sealed personal values) reads format 1 through its upcaster: a format-1 log must still load,
    replay and verify, and stay as it was stored."""
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="s-1")
    engine.load(WORKFLOWS)
    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
    case.record_fact("serious_violence_or_extortion", False, actor=STAFF, at=jst(2019, 5, 2))
    kept = [row.body for row in engine.store.read_case(case.id)]
    stored = [text.replace('"format":2', '"format":1') for text in kept]  # as format 1 wrote them (no sealed values)

    seen: list[int] = []

    def one_to_two(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body["seq"])
        return {**body, "format": 2}

    monkeypatch.setattr(events_module, "EVENT_FORMAT", 2)
    monkeypatch.setitem(events_module.UPCASTERS, 1, one_to_two)
    read = [parse_event(text) for text in stored]
    assert [e.format for e in read] == [2, 2] and seen == [1, 2]
    assert read[1].data == {"fact": "serious_violence_or_extortion", "value": False}
    assert [row.body for row in engine.store.read_case(case.id)] == kept  # never rewritten
    assert engine.get_case(case.id).facts == {"serious_violence_or_extortion": False}
