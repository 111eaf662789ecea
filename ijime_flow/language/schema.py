"""The JSON Schema of the workflow language, generated from the pydantic models.

Committed at ``schema/workflow.schema.json`` (a test keeps it current) and printed by
``ijime-flow schema``. Workflow files point editors at it with a first-line comment::

    # yaml-language-server: $schema=../schema/workflow.schema.json
"""

from __future__ import annotations

import json
from typing import Any

from .models import WorkflowDef

SCHEMA_ID = "https://ijime-flow.invalid/schema/workflow.schema.json"


def workflow_schema() -> dict[str, Any]:
    schema = WorkflowDef.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ijime-flow workflow",
        "description": "A school's bullying-response procedure as a state machine (ijime-flow).",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def workflow_schema_text() -> str:
    return json.dumps(workflow_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
