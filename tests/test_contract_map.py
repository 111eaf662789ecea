"""A school's own ids read as the contract's (ijime_flow.policy.contract_map), and roles in features matched by
contract id or exact name, never by a fragment of a label (ijime_flow.policy.parse.role_id)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ijime_flow.errors import DefinitionError
from ijime_flow.language.loader import load_file, load_text
from ijime_flow.policy.contract_map import WorkflowMap, apply_map, load_map
from ijime_flow.policy.parse import NotChecked, role_id

ROOT = Path(__file__).resolve().parent.parent
SCHOOL = ROOT / "tests" / "fixtures" / "schools" / "overseas"
RESPONSE = (ROOT / "workflows" / "response.yaml").read_text(encoding="utf-8")


def test_the_map_renames_the_school_ids_to_the_contract_ones() -> None:
    school = load_file(SCHOOL / "response.yaml")
    assert "taisaku_soshiki" in school.spec.roles and "committee" not in school.spec.roles
    mapped = apply_map(school, load_map(SCHOOL / "contract-map.yaml")["response"])
    assert "committee" in mapped.spec.roles and "taisaku_soshiki" not in mapped.spec.roles
    assert mapped.spec.roles["committee"].ja == "いじめの防止等の対策のための組織"  # its own name kept
    assert all("taisaku_soshiki" not in t.roles for t in mapped.spec.transitions)
    assert mapped.tz.key == "Asia/Jakarta"


def test_a_map_renames_triggers_and_dotted_states() -> None:
    text = RESPONSE.replace("share_with_committee", "kyoyu").replace("victim_support", "higai_shien")
    mapped = apply_map(load_text(text), WorkflowMap(triggers={"kyoyu": "share_with_committee"},
                                                   states={"higai_shien": "victim_support"}))
    assert "share_with_committee" in mapped.transitions_by_trigger
    assert "responding.victim_support.interviewed" in mapped.nodes


@pytest.mark.parametrize(("entry", "said"), [
    (WorkflowMap(roles={"nobody": "committee"}), "「nobody」はワークフロー response にありません"),
    (WorkflowMap(roles={"staff": "committee"}), "契約の「committee」はこのワークフローで別のものに使われています"),
    (WorkflowMap(roles={"staff": "board"}, triggers={"close": "board"}), "二つの id が対応しています"),
])
def test_a_wrong_map_is_refused_in_plain_words(entry: WorkflowMap, said: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        apply_map(load_text(RESPONSE), entry)
    assert said in str(caught.value)


def test_a_map_file_of_the_wrong_shape_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "contract-map.yaml"
    bad.write_text("response:\n  role: {a: b}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_map(bad)
    assert "response.role" in str(caught.value) and "対応表の書き方が違います" in str(caught.value)


def test_roles_by_contract_name_or_exact_label_never_by_a_fragment() -> None:
    school = apply_map(load_file(SCHOOL / "response.yaml"), load_map(SCHOOL / "contract-map.yaml")["response"])
    assert role_id("対策委員会", school) == "committee"  # the contract's short name, whatever the school calls it
    assert role_id("校内いじめ問題対策委員会", school) == "committee"
    assert role_id("いじめの防止等の対策のための組織", school) == "committee"  # the school's own exact label
    assert role_id("管理職", school) == "administrator"
    with pytest.raises(ValueError, match="対策のための"):
        role_id("対策のための", school)  # a fragment of the school's label is no name
    unmapped = load_file(SCHOOL / "response.yaml")
    with pytest.raises(NotChecked) as caught:
        role_id("対策委員会", unmapped)  # the contract's committee, which this workflow does not name
    assert caught.value.missing == ["role:committee"]
