"""The standing fuzz campaigns, bounded to run in CI time (``bench/fuzz.py`` runs the same generators
for 10,000 inputs and more per campaign). No input may end in a traceback, an accepted forgery or an
unreadable store; the outcomes must include both refusals and acceptances (the generators reach both)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from fuzzing import (
    FAILURES,
    WORKFLOWS,
    bundle_campaign,
    cli_campaign,
    make_signed_bundle,
    proof_campaign,
    workflow_campaign,
)
from fuzzing_api import NOW, ApiCampaign

from ijime_flow import Engine, FixedClock

RUNS = 150


def _check(outcomes: Counter[str], good: set[str], kinds: int = 2) -> None:
    failures = {k: v for k, v in outcomes.items() if k in FAILURES}
    assert not failures, f"{failures} in {dict(outcomes)}"
    assert len(good & set(outcomes)) >= kinds, dict(outcomes)  # the generator reaches more than one outcome


def test_mutated_workflows_are_refused_with_a_place_or_load_and_walk() -> None:
    rng = random.Random(2019)
    outcomes = Counter(workflow_campaign(rng) for _ in range(RUNS))
    _check(outcomes, {"refused", "loaded", "walked"})


def test_hostile_api_calls_are_refused_or_accepted_alike_by_every_store(tmp_path: Path, pg_url: str) -> None:
    engines = {name: Engine(target, clock=FixedClock(NOW), school="fuzz")
               for name, target in [("memory", None), ("sqlite", tmp_path / "fuzz.db"), ("postgres", pg_url)]}
    try:
        for engine in engines.values():
            engine.load(WORKFLOWS)
        campaign = ApiCampaign(engines)
        rng = random.Random(11)
        outcomes = Counter(campaign(rng) for _ in range(RUNS * 4))
        _check(outcomes, {"accepted", "refused"})
        assert campaign.verify_all(), "a store holds events that do not verify"
        moved = {len(engines["sqlite"].get_case(case_id).history()) for case_id in campaign.known}
        assert max(moved) > 3  # the calls reach cases beyond their first steps
    finally:
        for engine in engines.values():
            engine.close()


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return make_signed_bundle(tmp_path_factory.mktemp("signed"))


def test_mutated_bundles_never_verify_when_hashed_bytes_or_proofs_change(signed: dict[str, object], tmp_path: Path) -> None:
    rng = random.Random(5)
    outcomes = Counter(bundle_campaign(rng, signed, tmp_path) for _ in range(RUNS))
    _check(outcomes, {"accepted", "problems", "unusable"})


def test_mutated_proof_files_never_verify(signed: dict[str, object], tmp_path: Path) -> None:
    rng = random.Random(6)
    outcomes = Counter(proof_campaign(rng, signed, tmp_path) for _ in range(RUNS))
    _check(outcomes, {"problems", "unusable"}, kinds=1)


def test_random_command_lines_never_end_in_a_traceback(signed: dict[str, object], tmp_path: Path) -> None:
    rng = random.Random(7)
    outcomes = Counter(cli_campaign(rng, signed, tmp_path) for _ in range(RUNS))
    _check(outcomes, {"ok", "problems", "unusable"})
