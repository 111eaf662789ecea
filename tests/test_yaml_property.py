"""Property tests: whatever YAML-ish text comes in, ``load_text`` either loads it or raises DefinitionError.

No raw YAML, pydantic, KeyError, TypeError or RecursionError may escape the loader.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ijime_flow import Definition, DefinitionError, load_text

RESPONSE = (Path(__file__).resolve().parents[1] / "workflows" / "response.yaml").read_text(encoding="utf-8")
RESPONSE_LINES = RESPONSE.splitlines(keepends=True)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_loads_or_definition_error(text: str) -> None:
    try:
        defn = load_text(text, "prop.yaml")
    except DefinitionError as exc:
        assert exc.problems, "a DefinitionError must list at least one problem"
        for problem in exc.problems:
            assert problem.file == "prop.yaml"
            assert problem.line >= 1 and problem.col >= 1
            assert problem.message
        return
    assert isinstance(defn, Definition)
    assert len(defn.sha256) == 64


# -- random text ----------------------------------------------------------------------------------

YAMLISH = st.sampled_from([
    *":{}[]-#&*!|>'\"%@,?~=\\`", "\n", "\n  ", "\n    ", "\n- ", "  ", "\t", "\r\n", "\x00", "\ufeff", "---", "...",
    "!!str", "!!python/object", "*a", "&a", "<<: ", "id: ", "states: ", "transitions: ", "on", "yes", "1:30", "2019-05-31",
    "いじめ", "0x1F", ".inf", "null",
])
TEXT = st.lists(st.one_of(YAMLISH, st.text(max_size=6)), max_size=40).map("".join)


@SETTINGS
@given(TEXT)
def test_random_text_only_raises_definition_error(text: str) -> None:
    assert_loads_or_definition_error(text)


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_unicode_text_only_raises_definition_error(text: str) -> None:
    assert_loads_or_definition_error(text)


# -- random structured data -------------------------------------------------------------------------

IDS = st.sampled_from(["id", "version", "title", "source", "timezone", "roles", "facts", "opened_by", "initial", "states",
                       "transitions", "trigger", "from", "to", "when", "all", "any", "not", "fact", "equals", "in", "is_set",
                       "since", "at_least", "guard", "ja", "en", "type", "values", "many", "parallel", "final", "automatic",
                       "records", "requires", "includes", "staff", "start", "done", "*", "a.b", "Bad", "x"])
SCALARS = st.one_of(IDS, st.text(max_size=10), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                    st.none())
DATA = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.one_of(IDS, st.integers(), st.booleans()), inner,
                                                                       max_size=5)),
                    max_leaves=30)


@SETTINGS
@given(DATA)
def test_random_structured_data_only_raises_definition_error(data: object) -> None:
    assert_loads_or_definition_error(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def _base_document() -> dict[str, object]:
    return {
        "id": "wf", "version": "1", "title": {"ja": "テスト", "en": "Test"}, "source": "test",
        "roles": {"staff": {"ja": "教職員"}}, "facts": {"flag": {"type": "bool", "ja": "フラグ"}},
        "opened_by": ["staff"], "initial": "start",
        "states": {"start": {"ja": "開始", "source": "1"}, "done": {"ja": "終了", "source": "1", "final": True}},
        "transitions": [{"trigger": "finish", "ja": "終える", "source": "1", "from": "start", "to": "done",
                         "roles": ["staff"]}],
    }


@SETTINGS
@given(st.sampled_from(["id", "version", "title", "source", "timezone", "roles", "facts", "opened_by", "initial", "states",
                        "transitions"]), DATA)
def test_one_field_replaced_by_random_data(field: str, value: object) -> None:
    """A mostly valid workflow with one top-level field replaced: deeper code paths (references, lint)."""
    doc = _base_document()
    doc[field] = value
    assert_loads_or_definition_error(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@SETTINGS
@given(DATA)
def test_random_condition_on_a_valid_workflow(when: object) -> None:
    doc = _base_document()
    doc["transitions"][0]["when"] = when  # type: ignore[index]
    assert_loads_or_definition_error(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def test_base_document_is_valid() -> None:
    """The property tests above mutate this: it must load as it is."""
    assert load_text(yaml.safe_dump(_base_document(), allow_unicode=True)).id == "wf"


# -- mutations of the real workflow ------------------------------------------------------------------

LINE = st.integers(min_value=0, max_value=len(RESPONSE_LINES) - 1)


@st.composite
def mutated_response(draw: st.DrawFn) -> str:
    lines = list(RESPONSE_LINES)
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "indent", "dedent"]))
    i = draw(LINE)
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = draw(LINE)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "truncate":
        return "".join(lines)[: draw(st.integers(min_value=0, max_value=len(RESPONSE)))]
    elif kind == "indent":
        lines[i] = "  " + lines[i]
    else:
        lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_response())
def test_mutated_response_only_raises_definition_error(text: str) -> None:
    assert_loads_or_definition_error(text)


@SETTINGS
@given(st.integers(min_value=0, max_value=len(RESPONSE) - 1), st.one_of(YAMLISH, st.text(min_size=1, max_size=5)))
def test_response_with_inserted_characters(at: int, junk: str) -> None:
    assert_loads_or_definition_error(RESPONSE[:at] + junk + RESPONSE[at:])
