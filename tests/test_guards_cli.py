"""``--guards module:attr``: a workflow whose condition uses a Python guard is refused by ``validate`` and
``check`` until the guard is named (the ``unregistered-guard`` lint rule, at the guard's line), and the named
guard is what the checks then run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ijime_flow.cli import main

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
OLD = "  - {trigger: share_with_all_staff,"


@pytest.fixture
def school(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "school"
    folder.mkdir()
    for source in WORKFLOWS.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.stem == "response":
            start = text.index(OLD)
            end = text.index("}", start)
            text = text[:end] + ", when: {guard: staff_meeting_held}" + text[end:]
        (folder / source.name).write_text(text, encoding="utf-8")
    (tmp_path / "school_guards.py").write_text("def staff_meeting_held(ctx):\n    return True\n"
                                               "GUARDS = {'staff_meeting_held': staff_meeting_held}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return folder


def test_validate_names_the_guard_at_its_line_until_it_is_registered(school: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(school)]) == 1
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if "unregistered-guard" in line]
    text = (school / "response.yaml").read_text(encoding="utf-8").splitlines()
    row = next(i for i, t in enumerate(text, 1) if "staff_meeting_held" in t)
    assert line.startswith(f"{school / 'response.yaml'}:{row}:") and "staff_meeting_held" in line
    assert "--guards" in line
    assert main(["validate", str(school), "--guards", "school_guards:GUARDS"]) == 0


def test_check_runs_with_the_named_guards(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--workflow", str(school), "--no-scenarios"]) == 1  # the guard is not known
    capsys.readouterr()
    code = main(["check", "--workflow", str(school), "--guards", "school_guards:GUARDS", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"], [r["id"] for w in out["workflows"] for r in w["rules"] if r["status"] != "pass"]


def test_a_wrong_guard_module_is_refused_in_plain_words(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(school), "--guards", "no_such_module_here:GUARDS"]) == 2
    err = capsys.readouterr().err
    assert "no_such_module_here" in err and " / " in err
