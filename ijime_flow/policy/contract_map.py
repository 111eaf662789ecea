"""A school's own names for the contract's, in a small file beside its workflows (``contract-map.yaml``)::

    response:                      # the school's workflow id
      roles: {taisaku_soshiki: committee, kyoto: administrator}
      triggers: {share_report: share_with_committee}
      states: {soshiki_kyoyu: shared_with_committee}
      facts: {ijime_nintei: bullying_recognised}

Each entry says "this id of ours is that contract id". ``check``, ``mutate`` and the step library read the
workflow through it (:func:`apply_map`): the checks and the features speak contract ids and the school keeps
its own. A contract id the school already uses for something else, an id mapped twice, or an entry naming
nothing in the workflow is refused in plain words (file and entry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..definition import Definition
from ..errors import DefinitionError, Problem

MAP_FILE = "contract-map.yaml"
KINDS = ("roles", "triggers", "states", "facts")


class WorkflowMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, str] = Field(default_factory=dict)
    triggers: dict[str, str] = Field(default_factory=dict)
    states: dict[str, str] = Field(default_factory=dict)
    facts: dict[str, str] = Field(default_factory=dict)

    def renames(self) -> dict[str, str]:
        return {**self.roles, **self.triggers, **self.states, **self.facts}


def load_map(path: Path) -> dict[str, WorkflowMap]:
    """The maps of ``path``, by the school's workflow id."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([Problem(str(path), 1, 1, "",
                                       f"契約との対応表を読めません / cannot read the contract map: {exc}")]) from None
    if not isinstance(raw, dict):
        raise DefinitionError([Problem(str(path), 1, 1, "", "ワークフローの id ごとに書いてください / expected one entry per"
                                                          " workflow id (response: {roles: …, triggers: …})")])
    out: dict[str, WorkflowMap] = {}
    for workflow, entry in raw.items():
        try:
            out[str(workflow)] = WorkflowMap.model_validate(entry or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (workflow, *first["loc"]))
            raise DefinitionError([Problem(str(path), 1, 1, where, f"対応表の書き方が違います（{KINDS} に 学校の id: 契約の id）"
                                                                  f" / not a contract map entry: {first['msg']}")]) from None
    return out


def map_beside(workflow: Path) -> Path | None:
    candidate = workflow.resolve().parent / MAP_FILE
    return candidate if candidate.is_file() else None


def apply_map(defn: Definition, mapping: WorkflowMap, map_file: str = MAP_FILE) -> Definition:
    """``defn`` with the school's ids replaced by the contract's (labels, sources and everything else kept)."""
    renames = mapping.renames()
    if not renames:
        return defn
    problems: list[Problem] = []
    declared = {"roles": set(defn.spec.roles), "triggers": set(defn.transitions_by_trigger), "states": set(defn.nodes),
                "facts": set(defn.spec.facts)}
    leaf_names = {path.split(".")[-1] for path in defn.nodes}
    targets: dict[str, str] = {}
    for kind in KINDS:
        for ours, theirs in getattr(mapping, kind).items():
            if ours not in declared[kind] and not (kind == "states" and ours in leaf_names):
                problems.append(Problem(map_file, 1, 1, f"{defn.id}.{kind}.{ours}",
                                        f"「{ours}」はワークフロー {defn.id} にありません / '{ours}' is not in"
                                        f" workflow '{defn.id}'"))
            if theirs in targets and targets[theirs] != ours:
                problems.append(Problem(map_file, 1, 1, f"{defn.id}.{kind}.{ours}",
                                        f"契約の「{theirs}」に二つの id が対応しています（{targets[theirs]}, {ours}） /"
                                        f" two ids map to the contract's '{theirs}'"))
            taken = any(theirs in declared[k] for k in KINDS) and theirs not in renames
            if taken:
                problems.append(Problem(map_file, 1, 1, f"{defn.id}.{kind}.{ours}",
                                        f"契約の「{theirs}」はこのワークフローで別のものに使われています / the workflow already"
                                        f" uses '{theirs}' for something else"))
            targets[theirs] = ours
    if problems:
        raise DefinitionError(problems)
    data = _renamed(defn.spec.model_dump(mode="json", by_alias=True, exclude_none=True), renames)
    return Definition(type(defn.spec).model_validate(data), file=defn.file)


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {_rename(k, renames): _renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renames) for v in value]
    if isinstance(value, str):
        return _rename(value, renames)
    return value


def _rename(text: str, renames: dict[str, str]) -> str:
    if text in renames:
        return renames[text]
    if "." in text and text.isascii() and " " not in text:  # a dotted state path
        return ".".join(renames.get(part, part) for part in text.split("."))
    return text
