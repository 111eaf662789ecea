"""What ships with the package (ijime_flow.bundled): the shipped workflows by name, ``ijime-flow init`` copies
for a school to edit without overwriting anything. (The wheel itself is built, installed in a fresh virtual
environment outside the checkout and run there by ``.ci/run``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from ijime_flow import Engine, bundled
from ijime_flow.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_bundled_folders_are_the_checkout_s_in_a_source_tree() -> None:
    for kind in bundled.KINDS:
        assert bundled.path(kind) == ROOT / kind and any(bundled.path(kind).iterdir())


def test_engines_load_the_shipped_workflows_by_name() -> None:
    engine = Engine()
    assert [d.id for d in engine.load_bundled()] == ["response", "school_year", "serious_incident"]
    other = Engine()
    assert [d.id for d in other.load("bundled:response")] == ["response", "serious_incident"]  # with its target
    with pytest.raises(FileNotFoundError, match="同梱のワークフロー「nothing」はありません"):
        Engine().load("bundled:nothing")


def test_init_copies_what_ships_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "school")]) == 0
    copied = sorted(p.relative_to(tmp_path / "school").as_posix() for p in (tmp_path / "school").rglob("*.*"))
    assert copied == ["features/response.feature", "features/school_year.feature", "features/serious_incident.feature",
                      "rules/response.yaml", "rules/school_year.yaml", "rules/serious_incident.yaml",
                      "workflows/calendar.yaml", "workflows/response.yaml", "workflows/school_year.yaml",
                      "workflows/serious_incident.yaml"]  # the school calendar too, to edit each school year
    copy = tmp_path / "school" / "workflows" / "response.yaml"
    assert copy.read_bytes() == (ROOT / "workflows" / "response.yaml").read_bytes()
    edited = tmp_path / "school" / "rules" / "response.yaml"
    edited.write_text("# ours\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["init", str(tmp_path / "school")]) == 2
    assert "上書きしません" in capsys.readouterr().err and edited.read_text(encoding="utf-8") == "# ours\n"
    capsys.readouterr()
    assert main(["check", "--workflow", str(tmp_path / "school" / "workflows"), "--no-rules",
                 str(tmp_path / "school" / "features")]) == 0
