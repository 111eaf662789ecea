"""History bundles: one case's history in one file, to hand over, archive or audit away from the store.

A bundle is exported from a store (:func:`export_bundle`, ``ijime-flow export``), read back as an
in-memory engine that replays and verifies exactly like the store did (:func:`load_bundle`), and
imported into another store once it verifies (:func:`import_bundle`, ``ijime-flow import``).

**Format 1.** A bundle is a JSON Lines file: UTF-8 text, one JSON object per line, each line ended by
``\\n`` (a reader accepts the last line without it). Key order inside an object is not significant;
the writer puts ``kind`` first and writes no insignificant white space. The lines come in four groups,
in this order:

1. **One header** (line 1)::

       {"kind": "ijime-flow-bundle", "format": 1, "case_id": MAIN, "exported_at": TIME,
        "cases": [MAIN, ...], "events": N, "proofs": P, "generator": "ijime-flow 0.1.0"}

   ``case_id`` is the case the bundle was exported for; ``cases`` lists every case in the bundle, the
   main case first, then the cases linked to it (with ``--with-linked``: by escalation or a step that opened
   one) in the order
   they were opened; ``exported_at`` is ISO 8601 with a UTC offset; ``events`` and ``proofs`` count the
   event and proof lines that follow (a file cut at a line boundary is caught by them — they are not a
   signature: the proofs are). ``generator`` is informative. A reader refuses any other ``format``.
   ``outside`` (optional): linked cases left out on purpose — those a linked case other than the main one opened
   by a step (a school year's other concerns: other pupils' cases); see ``docs/formats.md`` §6.

2. **Definitions**, one line for every workflow definition pinned by the first event of a case in the
   bundle, in the order of ``cases``::

       {"kind": "definition", "sha256": HEX, "text": CANONICAL_TEXT}

   ``text`` is the definition's canonical JSON text as the store keeps it; its SHA-256 is ``sha256``
   and is what the case's first event pins. The school calendar a case pinned (``data["_calendar"]`` of
   its first event: see :mod:`ijime_flow.calendars.resolved`) is a line of this kind too, its text the
   calendar's canonical JSON. A definition the store did not have is left out (the bundle then fails
   verification at that case's seq 1, as the store did).

3. **Events**, every event of every case in the bundle, in the store's global ``position`` order (so
   each case's events come in ``seq`` order 1, 2, 3 … with no gap)::

       {"kind": "event", "case_id": ID, "seq": N, "position": P, "body": STORED_TEXT}

   ``body`` is the event's canonical JSON text exactly as the store holds it, as a JSON string: byte
   for byte what the event's ``hash`` covers and what a checkpoint's Merkle leaf is made of (see "The
   event log"). ``position`` is the event's position in the store it was exported from.

4. **Proofs** (only when exported against a signed checkpoint), one line per event recorded at or
   before the checkpoint (``position`` ≤ its ``size``), in the order of the events::

       {"kind": "proof", "case_id": ID, "seq": N, "inclusion": PROOF}

   ``PROOF`` is exactly what ``ijime-flow prove`` writes (:func:`ijime_flow.proofs.check.inclusion_bundle`):
   the signed checkpoint, ``leaf_index`` (= ``position`` - 1), the event text and the RFC 6962 audit
   path. Saved alone as a file it is checked by ``ijime-flow verify-proof`` (or
   :func:`ijime_flow.proofs.check.check_bundle`, or :func:`check_proofs` for all of them at once). Events
   recorded after the checkpoint get no proof line.

**Reading** (:func:`read_bundle`) refuses, as :class:`BundleError` (an ``InvalidData``) naming the
file and the line: a file that is not UTF-8, a line that is not a JSON object (a cut line), a missing
header, a format other than 1, an unknown ``kind``, a group out of order, a field missing or of the
wrong type, an event of a case the header does not list, a case whose events do not run 1, 2, 3 …, a
listed case without events, positions not increasing, and counts that differ from the header's.
An event whose *body* is damaged is **not** refused: the bundle loads and verification reports it
with its case and seq, as it would in a store. Neither is a pinned definition that is missing.

**Verifying.** :func:`load_bundle` gives an :class:`~ijime_flow.engine.Engine` over a
:class:`~ijime_flow.store.MemoryStore` holding the definitions and every event byte for byte, with no
workflow loaded: each case replays under the text it pinned, so ``engine.verify()`` checks the
bundle as it would the store (chains, pinned definitions, the legality of every step, the links of
escalations). A case that escalated, exported without its linked case, fails the link check: export
it ``--with-linked``.

**Importing** (:func:`import_bundle`) loads and verifies the bundle, refuses it when it does not
verify or when any of its cases already exists in the target store (:class:`BundleRejected`,
nothing written), and otherwise writes the definitions and every event, byte for byte, with the
cases' projection rows, in one append (all or none).
"""

from __future__ import annotations

from .format import (
    BUNDLE_FORMAT,
    BUNDLE_KIND,
    Bundle,
    BundleError,
    BundleEvent,
    BundleProof,
    BundleRejected,
    CasesAlreadyExist,
    ImportResult,
    NotVerified,
)
from .load import import_bundle, load_bundle
from .proofs import ProofStatus, check_proofs, proof_status
from .read import read_bundle
from .write import export_bundle, linked_case_ids

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_KIND",
    "Bundle",
    "BundleError",
    "BundleEvent",
    "BundleProof",
    "BundleRejected",
    "CasesAlreadyExist",
    "ImportResult",
    "NotVerified",
    "ProofStatus",
    "check_proofs",
    "export_bundle",
    "import_bundle",
    "linked_case_ids",
    "load_bundle",
    "proof_status",
    "read_bundle",
]
