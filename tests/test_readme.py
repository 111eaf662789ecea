"""The README's embedded diagram is the one `ijime-flow diagram` makes from the YAML today."""

from __future__ import annotations

import re

from conftest import ROOT, WORKFLOWS

from ijime_flow import load_file
from ijime_flow.audit.diagram import mermaid


def test_the_embedded_response_diagram_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- diagram:response:start[^>]*-->\n```mermaid\n(.*?)```\n<!-- diagram:response:end -->",
                      readme, re.S)
    assert found, "README.md has no embedded response diagram between the diagram:response markers"
    assert found.group(1) == mermaid(load_file(WORKFLOWS / "response.yaml")) + "\n", (
        "README diagram is stale: paste the output of `ijime-flow diagram workflows/response.yaml`")
    assert re.search(r"\n\s+--\n", found.group(1))  # the parallel regions are drawn side by side


def _python_block_after(heading: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(heading):]
    return section[section.index("```python\n") + len("```python\n"):section.index("\n```", section.index("```python"))]


def test_the_library_quick_start_runs(tmp_path: object, monkeypatch: object) -> None:
    import shutil

    shutil.copytree(WORKFLOWS, tmp_path / "workflows")  # type: ignore[operator]
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    namespace: dict[str, object] = {}
    exec(compile(_python_block_after("## Library quick start"), "README.md", "exec"), namespace)
    report = namespace["report"]
    assert report.ok  # type: ignore[attr-defined]
    assert namespace["again"].active_states == {"reported_to_administrator"}  # type: ignore[attr-defined]
    assert (tmp_path / "cases.db").is_file()  # type: ignore[operator]
    import sqlite3

    with sqlite3.connect(tmp_path / "cases.db") as db:  # type: ignore[operator]
        notices = db.execute("SELECT case_id, seq FROM notices").fetchall()
        seqs = [seq for (seq,) in db.execute("SELECT seq FROM events WHERE case_id = ?", (notices[0][0],))]
    db.close()
    assert notices == [(namespace["case"].id, max(seqs))]  # type: ignore[attr-defined]  # committed with the step
