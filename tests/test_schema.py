"""The JSON Schema is generated from the models, committed, current, and validates the workflows."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from conftest import ROOT, WORKFLOWS

from ijime_flow.language.schema import workflow_schema, workflow_schema_text

SCHEMA_FILE = ROOT / "schema" / "workflow.schema.json"


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == workflow_schema_text(), (
        "schema/workflow.schema.json is stale: run `ijime-flow schema -o schema/workflow.schema.json`")


@pytest.mark.parametrize("path", sorted(p for p in WORKFLOWS.glob("*.yaml") if p.name != "calendar.yaml"), ids=lambda p: p.name)
def test_workflow_files_point_editors_at_the_schema_and_pass_it(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/workflow.schema.json"
    jsonschema.validate(json.loads(json.dumps(yaml.safe_load(text), default=str)), workflow_schema())


def test_schema_rejects_an_unknown_field() -> None:
    data = yaml.safe_load((WORKFLOWS / "response.yaml").read_text(encoding="utf-8"))
    data["states"]["discovered"]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, workflow_schema())
