"""Checks across workflows loaded together: whether an escalation can ever open its linked case, and
that no two files of a folder declare the same workflow id.

``escalation: {to: W, criteria: [...]}`` opens a case of workflow ``W`` with the fact ``criterion``
set to the id of the criterion met. That needs a workflow ``W`` that is opened with ``criterion``
(``records_on_open``) and whose ``criterion`` fact takes every criterion id (an enum listing them, or
a string). Otherwise the engine refuses to open any case of the escalating workflow (or, for a fact
of another type, fails at the moment of escalation) — too late for the policy author to hear of it.

Two files of one folder declaring the same ``id`` would leave it to the order of loading which one
new cases open under (the engine keeps the last); even two identical files make it ambiguous which is
meant. :func:`duplicate_ids` refuses every such file, naming all of them and the line of each ``id:``.

Which workflows count as "loaded together" is the loader's business (see
:func:`ijime_flow.language.loader.validate_paths`); here they are a mapping from id to definition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..definition import Definition
from ..errors import Problem
from .findings import Finding
from .suggest import both, hint

RULE = "escalation-target"
DUPLICATE_RULE = "duplicate-id"


def duplicate_ids(declared: Sequence[tuple[Definition, Problem]]) -> list[Problem]:
    """One problem for every file of a folder whose workflow id another file of it declares too.
    ``declared``: each definition of the folder with where its ``id:`` is (file, line, column)."""
    by_id: dict[str, list[tuple[Definition, Problem]]] = {}
    for defn, where in declared:
        by_id.setdefault(defn.id, []).append((defn, where))
    problems: list[Problem] = []
    for workflow_id, found in by_id.items():
        if len(found) < 2:
            continue
        places = ", ".join(f"{where.file}:{where.line}" for _, where in found)
        if len({defn.sha256 for defn, _ in found}) == 1:
            same_ja, same_en = "（内容も同じです）", " (their texts are the same)"
        else:
            versions = ", ".join(sorted({defn.version for defn, _ in found}))
            same_ja, same_en = f"（版: {versions}）", f" (versions: {versions})"
        for _, where in found:
            problems.append(Problem(where.file, where.line, where.col, "id", (
                f"ワークフロー ID「{workflow_id}」が同じフォルダーの複数のファイルで宣言されています{same_ja}: {places}。"
                "どれを使うのか決められません。一つのファイルにしてください / workflow id"
                f" '{workflow_id}' is declared by more than one file in the folder{same_en}: {places}; which one is"
                f" meant is ambiguous: keep one [{DUPLICATE_RULE}]")))
    return problems


def escalation_findings(defn: Definition, pool: Mapping[str, Definition]) -> Iterator[Finding]:
    """What keeps ``defn``'s escalation from opening a case of a workflow in ``pool``."""
    escalation = defn.spec.escalation
    if escalation is None:
        return
    to = escalation.to
    target = pool.get(to)
    if target is None:
        ids = ", ".join(sorted(pool)) or "-"
        yield Finding(RULE, ("escalation", "to"), both(
            f"エスカレーション先のワークフロー「{to}」がありません（一緒に読み込んだワークフロー: {ids}）",
            f"escalation target workflow '{to}' is not among the workflows loaded with it ({ids})", hint(to, sorted(pool))))
        return
    fact = target.spec.facts.get("criterion")
    if fact is None or "criterion" not in target.spec.records_on_open or fact.type not in ("enum", "string"):
        yield Finding(RULE, ("escalation", "to"),
                      f"エスカレーション先「{to}」は、事案を開くときに事実 criterion（enum か string）を受け取りません"
                      f"（records_on_open: [criterion]） / workflow '{to}' must declare a fact 'criterion' (enum or"
                      f" string) in records_on_open: an escalation opens its case with the criterion that was met")
        return
    if fact.type == "enum":
        values = fact.values or []
        for k, criterion in enumerate(escalation.criteria):
            if criterion.id not in values:
                yield Finding(RULE, ("escalation", "criteria", k, "id"),
                              f"基準「{criterion.id}」はエスカレーション先「{to}」の事実 criterion の値にありません"
                              f"（値: {', '.join(values)}） / criterion '{criterion.id}' is not a value of fact"
                              f" 'criterion' of workflow '{to}' ({', '.join(values)})")


OPENS_RULE = "opens-target"


def opens_findings(defn: Definition, pool: Mapping[str, Definition]) -> Iterator[Finding]:
    """What keeps a step that ``opens`` a case of another workflow from opening it: the workflow is not loaded
    with it, it must be opened with data (``records_on_open``), or a fact the step records on it is not one of its
    facts or not a value it takes."""
    from ..errors import IjimeFlowError
    from ..stepper import coerce_fact

    for i, t in enumerate(defn.spec.transitions):
        if t.opens is None:
            continue
        where = ("transitions", i, "opens")
        target = pool.get(t.opens.workflow)
        if target is None:
            ids = ", ".join(sorted(pool)) or "-"
            yield Finding(OPENS_RULE, (*where, "workflow"), both(
                f"「{t.trigger}」が開くワークフロー「{t.opens.workflow}」がありません（一緒に読み込んだワークフロー: {ids}）",
                f"'{t.trigger}' opens a case of workflow '{t.opens.workflow}', which is not among the workflows loaded"
                f" with it ({ids})", hint(t.opens.workflow, sorted(pool))))
            continue
        if target.spec.records_on_open:
            yield Finding(OPENS_RULE, (*where, "workflow"),
                          f"「{target.id}」は開くときにデータ（{', '.join(target.spec.records_on_open)}）が必要なため、"
                          f"「{t.trigger}」からは開けません / '{t.trigger}' cannot open a '{target.id}' case: it must be"
                          f" opened with data ({', '.join(target.spec.records_on_open)})")
        for name, value in t.opens.facts.items():
            fact = target.spec.facts.get(name)
            if fact is None:
                yield Finding(OPENS_RULE, (*where, "facts", name),
                              f"「{target.id}」に事実「{name}」はありません / workflow '{target.id}' has no fact '{name}'")
                continue
            try:
                coerce_fact(fact, name, value)
            except IjimeFlowError as exc:
                yield Finding(OPENS_RULE, (*where, "facts", name), str(exc))
