"""Two files of one folder that declare the same workflow id are refused — by ``Engine.load``,
``load_path`` / ``validate_paths`` and ``ijime-flow validate`` — naming both files and the line of
each ``id:``; even two identical files (which one is meant is ambiguous). The engine loads nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import WORKFLOWS

from ijime_flow import Engine
from ijime_flow.cli import main
from ijime_flow.errors import DefinitionError
from ijime_flow.language.loader import load_path, validate_paths

RESPONSE = WORKFLOWS / "response.yaml"
ID_LINE = 7  # `id: response` in workflows/response.yaml


def folder_with(tmp_path: Path, **files: str) -> Path:
    """A folder holding the shipped serious_incident workflow and the given files (name -> text)."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    shutil.copy(WORKFLOWS / "serious_incident.yaml", folder / "serious_incident.yaml")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def revised(text: str, version: str, comments: int = 0) -> str:
    """The response workflow as another version, ``comments`` lines further down."""
    assert text.count('version: "2019.1"') == 1
    return "# revised\n" * comments + text.replace('version: "2019.1"', f'version: "{version}"')


def duplicate_problems(exc: DefinitionError) -> list[str]:
    return [str(p) for p in exc.problems if "[duplicate-id]" in p.message]


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    text = RESPONSE.read_text(encoding="utf-8")
    return folder_with(tmp_path, **{"response.yaml": text, "response_2020.yaml": revised(text, "2020.1", comments=3)})


def test_the_engine_refuses_a_folder_with_one_id_in_two_files(two_versions: Path) -> None:
    with Engine(None) as engine:
        with pytest.raises(DefinitionError) as caught:
            engine.load(two_versions)
        assert engine.definitions == {}  # nothing loaded: not the one that happened to come last
    first, second = two_versions / "response.yaml", two_versions / "response_2020.yaml"
    problems = caught.value.problems
    assert [(p.file, p.line, p.path) for p in problems] == [(str(first), ID_LINE, "id"),
                                                           (str(second), ID_LINE + 3, "id")]
    for problem in problems:
        assert f"{first}:{ID_LINE}" in problem.message and f"{second}:{ID_LINE + 3}" in problem.message
        assert "workflow id 'response' is declared by more than one file" in problem.message
        assert "(versions: 2019.1, 2020.1)" in problem.message and "which one is meant is ambiguous" in problem.message
        ja, _, en = problem.message.partition(" / ")
        assert ja.startswith("ワークフロー ID「response」が同じフォルダーの複数のファイルで宣言されています") and en
    assert caught.value.line == ID_LINE and caught.value.col == 1  # the first problem, at the `id:` key


def test_identical_files_are_refused_too(tmp_path: Path) -> None:
    text = RESPONSE.read_text(encoding="utf-8")
    folder = folder_with(tmp_path, **{"a.yaml": text, "b.yml": text})
    with pytest.raises(DefinitionError) as caught:
        load_path(folder)
    found = duplicate_problems(caught.value)
    assert len(found) == 2 and len(caught.value.problems) == 2
    assert found[0].startswith(f"{folder / 'a.yaml'}:{ID_LINE}:1: ") and found[1].startswith(f"{folder / 'b.yml'}:{ID_LINE}:1: ")
    assert all("(their texts are the same)" in p and "（内容も同じです）" in p for p in found)


def test_three_files_each_name_all_three(tmp_path: Path) -> None:
    text = RESPONSE.read_text(encoding="utf-8")
    folder = folder_with(tmp_path, **{"a.yaml": text, "b.yaml": revised(text, "2020.1"), "c.yaml": revised(text, "2021.1", 1)})
    definitions, problems = validate_paths([folder])
    assert [d.id for d in definitions] == ["serious_incident"]  # the others are all refused
    assert [(Path(p.file).name, p.line) for p in problems] == [("a.yaml", ID_LINE), ("b.yaml", ID_LINE),
                                                                ("c.yaml", ID_LINE + 1)]
    for problem in problems:
        assert all(f"{folder / name}:" in problem.message for name in ("a.yaml", "b.yaml", "c.yaml"))


def test_validate_command(two_versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["validate", str(two_versions)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert f"ok: {two_versions / 'serious_incident.yaml'} (serious_incident 2019.1" in out
    assert not any(line.startswith("ok:") and "response" in line for line in lines)
    refused = [line for line in lines if "[duplicate-id]" in line]
    assert [line.split(": ")[0] for line in refused] == [f"{two_versions / 'response.yaml'}:{ID_LINE}:1",
                                                         f"{two_versions / 'response_2020.yaml'}:{ID_LINE + 3}:1"]
    assert all("response.yaml" in line and "response_2020.yaml" in line for line in refused)
    assert main(["validate", "--no-lint", str(two_versions)]) == 1  # not a lint rule: always refused
    assert "[duplicate-id]" in capsys.readouterr().out


def test_one_file_per_id_still_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_with(tmp_path, **{"response.yaml": RESPONSE.read_text(encoding="utf-8")})
    with Engine(None) as engine:
        assert sorted(d.id for d in engine.load(folder)) == ["response", "serious_incident"]
    capsys.readouterr()
    assert main(["validate", str(folder)]) == 0
    assert "duplicate" not in capsys.readouterr().out


def test_a_file_that_does_not_load_is_not_counted(tmp_path: Path) -> None:
    """A broken file's id is unknown: its own problems are reported, the other file is not refused for it."""
    text = RESPONSE.read_text(encoding="utf-8")
    folder = folder_with(tmp_path, **{"response.yaml": text, "response_broken.yaml": text + "\nnonsense: [\n"})
    definitions, problems = validate_paths([folder])
    assert sorted(d.id for d in definitions) == ["response", "serious_incident"]
    assert problems and all(Path(p.file).name == "response_broken.yaml" for p in problems)
    assert not any("[duplicate-id]" in p.message for p in problems)


def test_files_given_one_by_one_are_not_a_folder(tmp_path: Path) -> None:
    """The rule is about one folder: two revisions named on the command line, each from its own folder,
    are checked side by side as before (what `ijime-flow validate old/x.yaml new/x.yaml` is for)."""
    text = RESPONSE.read_text(encoding="utf-8")
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "response.yaml").write_text(text, encoding="utf-8")
    (new / "response.yaml").write_text(revised(text, "2020.1"), encoding="utf-8")
    definitions, problems = validate_paths([old / "response.yaml", new / "response.yaml", WORKFLOWS / "serious_incident.yaml"])
    assert problems == [] and sorted(d.version for d in definitions if d.id == "response") == ["2019.1", "2020.1"]
