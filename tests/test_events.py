"""Events: the canonical text the store keeps is exactly what the hash covers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ijime_flow import InvalidData
from ijime_flow.canonical import canonical_json, sha256_hex
from ijime_flow.events import DefinitionPin, body_hash, parse_event, seal, to_json_value

AWKWARD = {"prev_hash": "x", "note": ',"prev_hash":"y"', "nested": {"hash": 1, "prev_hash": [1, 2]}, "ja": "秘密を守る"}


@pytest.mark.parametrize("data", [{}, AWKWARD, {"n": 1.5, "flag": False, "none": None}])
@pytest.mark.parametrize("first", [True, False])
def test_the_sealed_text_is_the_canonical_json_of_the_event(data: dict[str, object], first: bool) -> None:
    """A case's first event carries its school; the others have no ``school`` key at all."""
    at = datetime(2019, 5, 1, 1, 0, tzinfo=UTC)
    event, text = seal(case_id="c1", seq=1 if first else 2, type="opened" if first else "transition",
                       trigger=None if first else "stop_act", from_states=None if first else ["discovered"],
                       to_states=["discovered"], actor_id="t-014", actor_roles=["staff"], at=at, recorded_at=at,
                       data=data, definition=DefinitionPin(id="response", version="1", sha256="0" * 64) if first else None,
                       prev_hash=None if first else "ab" * 32, school="school-9" if first else None)
    body = event.model_dump(mode="json", exclude=None if first else {"school"})
    assert ('"school":"school-9"' in text) is first and ('"school"' in text) is first
    body["at"] = body["recorded_at"] = at.isoformat()
    assert text == canonical_json(body)
    assert parse_event(text) == event  # what the store gives back equals what fire returned
    constructed = type(event).model_construct(**dict(event))  # the fast construction is pydantic's own
    assert event == constructed and event.model_fields_set == constructed.model_fields_set
    assert event.hash == body_hash(body) == sha256_hex(canonical_json({k: v for k, v in body.items() if k != "hash"}))


def test_data_is_json_or_refused() -> None:
    assert to_json_value({"d": date(2019, 5, 1), "l": (1, "a")}, "data") == {"d": "2019-05-01", "l": [1, "a"]}
    with pytest.raises(InvalidData, match=r"data\.x"):
        to_json_value({"x": object()}, "data")
    with pytest.raises(InvalidData, match="finite"):
        to_json_value({"x": float("nan")}, "data")
    with pytest.raises(InvalidData, match="naive"):
        to_json_value({"x": datetime(2019, 5, 1)}, "data")
