"""The README's embedded diagram is the one `ijime-flow diagram` makes from the YAML today."""

from __future__ import annotations

import re

from conftest import ROOT, WORKFLOWS

from ijime_flow import load_file
from ijime_flow.diagram import mermaid


def test_the_embedded_response_diagram_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- diagram:response:start[^>]*-->\n```mermaid\n(.*?)```\n<!-- diagram:response:end -->",
                      readme, re.S)
    assert found, "README.md has no embedded response diagram between the diagram:response markers"
    assert found.group(1) == mermaid(load_file(WORKFLOWS / "response.yaml")) + "\n", (
        "README diagram is stale: paste the output of `ijime-flow diagram workflows/response.yaml`")
    assert re.search(r"\n\s+--\n", found.group(1))  # the parallel regions are drawn side by side
