"""Proofs that a log only grows: RFC 6962 Merkle trees (:mod:`.merkle`), C2SP signed notes and checkpoints
(:mod:`.note`, :mod:`.tlog`; the JSON checkpoints of format 1 in :mod:`.checkpoint`, read for compatibility),
witness cosignatures and consistency proofs (:mod:`.witness`), tlog-proofs (:mod:`.inclusion`), and checking a
store or a proof file against them (:mod:`.check`). All need the ``checkpoints`` extra (cryptography)."""
