"""How the test vectors in this folder were made (with ijime_flow; kept for the record). Re-running it
must give the same files: every input is fixed (the first event of the frozen demo history, a fixed
Ed25519 seed). ``signed-note.json`` is not made here: it is the example of c2sp.org/signed-note.

    .venv/bin/python reference/vectors/make_vectors.py
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ijime_flow.canonical import canonical_json, sha256_hex
from ijime_flow.proofs.checkpoint import checkpoint_message, sign_checkpoint, to_json
from ijime_flow.proofs.merkle import consistency_proof, inclusion_proof, leaf_hash, root

HERE = Path(__file__).resolve().parent
FROZEN = HERE.parents[1] / "tests" / "fixtures" / "histories" / "demo.jsonl"
SEED = bytes(range(32))  # a fixed private key: these vectors are public, never use it for anything else


def write(name: str, obj: object) -> None:
    (HERE / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    first = json.loads(FROZEN.read_text(encoding="utf-8").splitlines()[2])["body"]  # line 3: the first event
    body = json.loads(first)
    unsealed = canonical_json({k: v for k, v in body.items() if k != "hash"})
    value = {"b": 1, "a": [1.0, 0.5, 1e16, -3, True, None], "Z": "x", "é": "日本語", "｡": 1, "😀": 2, "ctl": "\u0007\n\"\\/"}
    write("event.json", {"canonical": first, "unsealed": unsealed, "hash": sha256_hex(unsealed),
                         "encode": {"value": value, "canonical": canonical_json(value)}})

    text = canonical_json({"id": "例", "version": "1", "title": "いじめ対応"})
    write("definition.json", {"text": text, "utf8_hex": text.encode("utf-8").hex(), "sha256": sha256_hex(text)})

    leaves_text = [f'{{"n":{i},"note":"葉{i}"}}' for i in range(7)]
    leaves = [leaf_hash(t.encode("utf-8")) for t in leaves_text]
    write("merkle.json", {
        "leaves": leaves_text, "leaf_hashes": [h.hex() for h in leaves],
        "roots": {str(n): root(leaves, size=n).hex() for n in range(8)},
        "inclusion": {"index": 4, "size": 7, "path": [h.hex() for h in inclusion_proof(leaves, 4, size=7)]},
        "consistency": {"old_size": 3, "new_size": 7, "path": [h.hex() for h in consistency_proof(leaves, 3, size=7)]}})

    private = Ed25519PrivateKey.from_private_bytes(SEED)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    cp = sign_checkpoint(private_pem, 7, root(leaves, size=7), datetime(2019, 7, 1, 9, tzinfo=timezone(timedelta(hours=9))),
                         "school-0001")
    write("checkpoint.json", {"public_key_pem": public_pem.decode("ascii"), "checkpoint": json.loads(to_json(cp)),
                              "message": checkpoint_message(cp).decode("utf-8")})


if __name__ == "__main__":
    main()
