"""The contract ids of shared/procedure.md for the response workflow, and who acts."""

from __future__ import annotations

from conftest import WORKFLOWS

from ijime_flow import load_file

RESPONSE = load_file(WORKFLOWS / "response.yaml")

MAIN_LINE_STATES = ["discovered", "initial_response", "reported_to_administrator", "shared_with_committee",
                    "fact_finding", "facts_confirmed", "board_reported", "responding", "monitoring", "resolved",
                    "closed"]
REGIONS = ["responding.victim_support", "responding.perpetrator_guidance", "responding.bystander_guidance"]
TRIGGER_ROLES = {
    "stop_act": {"staff"}, "secure_safety": {"staff"}, "report_to_administrator": {"staff"},
    "share_with_committee": {"administrator"}, "start_fact_finding": {"committee"},
    "confirm_facts": {"committee"}, "report_to_board": {"principal"}, "begin_response": {"committee"},
    "resolve": {"committee"}, "close": {"principal"}, "consult_police": {"principal"},
    "outside_agency_liaison": {"principal"},
}
OTHER_TRIGGERS = ["report_recurrence", "delete_posts", "notify_police", "inform_support_services"]
FACTS = {"bullying_recognised": "bool", "serious_violence_or_extortion": "bool", "online": "bool",
         "act_stopped_on": "date", "victim_distress": "bool"}
ROLES = ["staff", "administrator", "principal", "committee", "counselor", "board", "mayor"]


def test_workflow_id_states_and_regions() -> None:
    assert RESPONSE.id == "response"
    assert RESPONSE.spec.initial == "discovered"
    for state in MAIN_LINE_STATES + REGIONS:
        assert state in RESPONSE.nodes, state
    assert RESPONSE.nodes["responding"].kind == "parallel"
    assert sorted(RESPONSE.nodes["responding"].children) == sorted(REGIONS)
    assert RESPONSE.nodes["closed"].final


def test_triggers_and_who_may_take_them() -> None:
    for trigger, roles in TRIGGER_ROLES.items():
        declared = RESPONSE.transitions_by_trigger[trigger]
        assert {r for _, t in declared for r in t.roles} == roles, trigger
    for trigger in OTHER_TRIGGERS:
        assert trigger in RESPONSE.transitions_by_trigger
    recurrence = RESPONSE.transitions_by_trigger["report_recurrence"][0][1]
    assert sorted(recurrence.from_) == ["monitoring", "resolved"] and recurrence.to == "fact_finding"
    assert "act_stopped_on" in recurrence.clears


def test_facts_roles_and_labels() -> None:
    assert {name: RESPONSE.spec.facts[name].type for name in FACTS} == FACTS
    assert set(RESPONSE.spec.facts["victim_distress"].roles or []) == {"committee", "counselor"}
    assert set(ROLES) <= set(RESPONSE.spec.roles)
    assert RESPONSE.role_closure({"principal"}) >= {"administrator", "staff"}
    for node in RESPONSE.nodes.values():
        assert node.spec.ja and node.spec.source
    for t in RESPONSE.spec.transitions:
        assert t.ja and t.source
