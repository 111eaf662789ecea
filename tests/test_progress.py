"""The progress bar appears on a terminal only; elsewhere the items pass through untouched."""

from __future__ import annotations

import io

import pytest

from ijime_flow.cli.progress import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_terminal() -> None:
    out = io.StringIO()
    assert list(progress(range(5), total=5, desc="検証", stream=out)) == [0, 1, 2, 3, 4]
    assert out.getvalue() == ""


def test_a_bar_on_a_terminal() -> None:
    pytest.importorskip("tqdm")
    out = FakeTerminal()
    assert list(progress(range(50), total=50, desc="verify", stream=out)) == list(range(50))
    assert "verify" in out.getvalue() and "/50 [" in out.getvalue()  # the bar, drawn then cleared
