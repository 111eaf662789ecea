"""The linked-case mutants (:mod:`.mutant_kinds`): ``opens_dropped`` — a step that opens a linked case (``opens:``,
e.g. the school year's ``report_concern`` opening a ``response`` case found through the survey) opens nothing, or
opens its case without one of the facts it gives it (``discovered_through: school_survey``)."""

from __future__ import annotations

from collections.abc import Iterator

from .mutant_context import Candidate, Context, drop


def opens_dropped(ctx: Context) -> Iterator[Candidate]:
    kind = "opens_dropped"
    for i, t, name in ctx.steps():
        if t.opens is None:
            continue
        yield Candidate(kind, name, (name,), f"「{name}」で {t.opens.workflow} の事案を開かないようにする",
                        f"'{name}' no longer opens a {t.opens.workflow} case", drop(("transitions", i, "opens")))
        for fact, value in t.opens.facts.items():
            yield Candidate(kind, name, (name, fact), f"「{name}」が開く事案に事実「{fact}」（{value}）を記録しない",
                            f"the case '{name}' opens no longer records '{fact}' ({value})",
                            drop(("transitions", i, "opens", "facts", fact)))
