"""What an auditor runs on a log: verification, replay, history bundles, reports and their displays.

- :mod:`.verify` — can this log be trusted? (:func:`~.verify.verify_store`, the report types); its
  parts: :mod:`.chain` (reading stored events, hashes, the chain), :mod:`.rules` and :mod:`.legality`
  (every step replayed under its pinned definition), :mod:`.links` (escalation links between cases);
- :mod:`.replay` — a case's state at a time or position, and against another definition;
- :mod:`.bundle` — history bundles (export, read, offline verification, import);
- :mod:`.report`, :mod:`.timeline`, :mod:`.diagram` — Markdown reports, timelines, Mermaid diagrams (their
  Japanese wording: :mod:`.diagram_words`);
- :mod:`.source` — a case read from a bundle or from a store, for the auditor's commands.

Verification needs no engine: it is given a store and a way to get a definition's runtime
(:class:`~.verify.Ledger`, which :class:`~ijime_flow.Engine` satisfies).
"""
