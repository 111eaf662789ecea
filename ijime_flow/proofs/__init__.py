"""Proofs that a log only grows: RFC 6962 Merkle trees (:mod:`.merkle`), Ed25519-signed checkpoints
(:mod:`.checkpoint`, the ``checkpoints`` extra), and checking a store or a proof file against them
(:mod:`.check`)."""
