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


SERIOUS = load_file(WORKFLOWS / "serious_incident.yaml")
SERIOUS_STATES = ["suspected", "reported_to_board", "mayor_informed", "school_investigation", "board_investigation",
                  "results_reported", "measures_taken", "closed"]
SERIOUS_TRIGGER_ROLES = {
    "report_occurrence": {"principal"}, "inform_mayor": {"board"}, "assign_school": {"board"},
    "assign_board": {"board"}, "report_results": {"principal", "board"}, "take_measures": {"principal"},
    "close": {"board"}, "order_reinvestigation": {"mayor"}, "provide_materials": {"principal", "staff"},
}
CRITERIA = ["serious_harm", "absence_30_days", "absence_run", "petition"]


def test_serious_incident_contract_ids() -> None:
    assert SERIOUS.id == "serious_incident" and SERIOUS.spec.initial == "suspected"
    for state in SERIOUS_STATES:
        assert state in SERIOUS.nodes, state
    assert SERIOUS.nodes["closed"].final
    for trigger, roles in SERIOUS_TRIGGER_ROLES.items():
        assert {r for _, t in SERIOUS.transitions_by_trigger[trigger] for r in t.roles} == roles, trigger
    harm = SERIOUS.spec.facts["serious_harm"]
    assert harm.type == "enum" and set(harm.values or []) == {
        "self_harm_attempt", "injury", "property_loss", "mental_illness", "transfer_or_withdrawal"}
    assert SERIOUS.spec.facts["absence"].type == "date" and SERIOUS.spec.facts["absence"].many
    assert {"petition", "criterion"} <= set(SERIOUS.spec.facts)


def test_the_response_workflow_escalates_on_every_criterion() -> None:
    escalation = RESPONSE.spec.escalation
    assert escalation is not None and escalation.to == "serious_incident"
    assert [c.id for c in escalation.criteria] == CRITERIA
    counted = next(c for c in escalation.criteria if c.id == "absence_30_days").absence
    run = next(c for c in escalation.criteria if c.id == "absence_run").absence_run
    assert counted is not None and (counted.days, counted.window) == (30, "school_year")
    assert run is not None and run.days == 7
    assert {"serious_harm", "absence", "petition"} <= set(RESPONSE.spec.facts)
    assert set(CRITERIA) <= set(SERIOUS.spec.facts["criterion"].values or [])
