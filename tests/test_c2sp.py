"""C2SP signed notes, checkpoints, cosignatures and tlog-proofs, checked against the specs' own examples and
against implementations we did not write: sigstore's checkpoint parser (sigstore 4.5.1, the dev extra) and
pymerkle's RFC 6962 tree."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ijime_flow.proofs.checkpoint import generate_keypair, sign_checkpoint
from ijime_flow.proofs.inclusion import check_tlog_proof, format_tlog_proof, parse_tlog_proof
from ijime_flow.proofs.merkle import MerkleLog, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency
from ijime_flow.proofs.note import COSIGNATURE, ED25519, Verifier, key_id, load_verifier, parse_note, parse_vkey
from ijime_flow.proofs.tlog import from_note, parse_checkpoint, sign_tlog_checkpoint
from ijime_flow.proofs.witness import check_signatures, cosign, cosignature_message

ORIGIN = "board.example.jp/school-0421"
PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, _ = generate_keypair()
RAW = serialization.load_pem_private_key(PRIVATE, None).public_key().public_bytes_raw()  # type: ignore[union-attr]
LOG = Verifier(ORIGIN, ED25519, RAW)
WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS = Verifier("board.example.jp/witness", COSIGNATURE, WITNESS_KEY.public_key().public_bytes_raw())
DATA = [f'{{"case_id":"c","seq":{i}}}'.encode() for i in range(1, 14)]
LEAVES = [leaf_hash(d) for d in DATA]


def test_the_signed_note_spec_example_verifies() -> None:
    # signed-note.md, "Example": this vkey verifies this note
    vkey = parse_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    note = parse_note("This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7"
                      "Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
    (line,) = note.signatures
    assert vkey.matches(line) and vkey.verify(line.signature, note.text.encode())
    assert not vkey.verify(line.signature, b"This is an example message!\n")


def test_key_ids_follow_the_specs() -> None:
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + RAW).digest()[:4]
    assert LOG.key_id_for(ORIGIN) == key_id(ORIGIN, 0x01, RAW) == expected
    cosigner = hashlib.sha256(b"board.example.jp/witness\n\x04" + WITNESS.public_key).digest()[:4]  # type 0x04
    assert WITNESS.key_id_for(WITNESS.name or "") == cosigner
    encoded = base64.b64encode(bytes([1]) + RAW).decode()
    assert LOG.vkey == f"{ORIGIN}+{expected.hex()}+{encoded}"
    assert parse_vkey(LOG.vkey) == LOG
    assert load_verifier(PUBLIC).public_key == RAW and load_verifier(PUBLIC).name is None
    name, hex_id, key = LOG.vkey.split("+", 2)
    for bad in (f"{name}+{'0' * 8}+{key}", f"other.example+{hex_id}+{key}", f"{name}+{hex_id}", "a b+00000000+AA=="):
        with pytest.raises(ValueError):
            parse_vkey(bad)


def test_a_checkpoint_is_the_documented_text_and_signature() -> None:
    r = root(LEAVES)
    cp = sign_tlog_checkpoint(PRIVATE, ORIGIN, len(LEAVES), r)
    body = f"{ORIGIN}\n13\n{base64.b64encode(r).decode()}\n"
    assert cp.body == body and str(cp).startswith(body + "\n— " + ORIGIN + " ")
    raw = base64.b64decode(str(cp).rsplit(" ", 1)[1])
    assert raw[:4] == LOG.key_id_for(ORIGIN)
    serialization.load_pem_public_key(PUBLIC).verify(raw[4:], body.encode())  # type: ignore[union-attr]
    again = parse_checkpoint(str(cp).encode())
    assert again == cp and check_signatures(again, [LOG]).signed_by == [ORIGIN]
    assert check_signatures(again, [load_verifier(PUBLIC)]).ok  # the PEM key of earlier versions works too


def test_no_origin_no_checkpoint() -> None:
    with pytest.raises(ValueError, match=r"起点名.*board\.example\.jp/school-0421"):
        sign_tlog_checkpoint(PRIVATE, "", 1, LEAVES[0])
    with pytest.raises(ValueError, match="space"):
        sign_tlog_checkpoint(PRIVATE, "school 1", 1, LEAVES[0])


@pytest.mark.parametrize("edit", ["size", "root", "origin", "other-key", "sig-bit", "extension"])
def test_an_altered_checkpoint_is_refused(edit: str) -> None:
    cp = sign_tlog_checkpoint(PRIVATE, ORIGIN, 13, root(LEAVES))
    text = str(cp)
    r64 = base64.b64encode(root(LEAVES)).decode()
    altered = {
        "size": text.replace("\n13\n", "\n12\n", 1),
        "root": text.replace(r64, base64.b64encode(root(LEAVES, size=12)).decode()),
        "origin": text.replace(ORIGIN + "\n", "board.example.jp/school-0422\n", 1),
        "other-key": str(sign_tlog_checkpoint(OTHER_PRIVATE, ORIGIN, 13, root(LEAVES))),
        "sig-bit": cp.body + "\n" + cp.note.signatures[0].__class__(
            ORIGIN, cp.note.signatures[0].key_id, bytes([cp.note.signatures[0].signature[0] ^ 1])
            + cp.note.signatures[0].signature[1:]).line(),
        "extension": text.replace(r64 + "\n", r64 + "\nextra\n", 1),
    }[edit]
    assert not check_signatures(parse_checkpoint(altered.encode()), [LOG]).ok


def test_a_json_checkpoint_of_format_1_still_verifies() -> None:
    from datetime import UTC, datetime

    from ijime_flow.proofs.checkpoint import to_json

    old = parse_checkpoint(to_json(sign_checkpoint(PRIVATE, 13, root(LEAVES), datetime(2025, 1, 1, tzinfo=UTC), "s")).encode())
    assert check_signatures(old, [load_verifier(PUBLIC)]).ok and check_signatures(old, [LOG]).ok
    assert not check_signatures(old, [load_verifier(generate_keypair()[1])]).ok
    assert not check_signatures(old, [LOG], [WITNESS]).ok  # a JSON checkpoint cannot carry a cosignature


def test_cosignatures_follow_tlog_cosignature() -> None:
    cp = cosign(sign_tlog_checkpoint(PRIVATE, ORIGIN, 13, root(LEAVES)), WITNESS_KEY, "board.example.jp/witness", 1679315147)
    line = cp.note.signatures[-1]
    assert line.key_id == WITNESS.key_id_for("board.example.jp/witness") and len(line.signature) == 72
    assert struct.unpack(">Q", line.signature[:8]) == (1679315147,)
    assert cosignature_message(cp.body, 1679315147) == f"cosignature/v1\ntime 1679315147\n{cp.body}".encode()
    WITNESS_KEY.public_key().verify(line.signature[8:], cosignature_message(cp.body, 1679315147))
    checked = check_signatures(cp, [LOG], [WITNESS])
    assert checked.ok and [n for n, _ in checked.cosigned_by] == ["board.example.jp/witness"]
    # a cosignature moved onto another checkpoint, or with its time changed, does not verify
    other = sign_tlog_checkpoint(PRIVATE, ORIGIN, 12, root(LEAVES, size=12))
    moved = from_note(other.note.with_signature(line))
    assert not check_signatures(moved, [LOG], [WITNESS]).ok
    retimed = line.__class__(line.name, line.key_id, struct.pack(">Q", 1679315148) + line.signature[8:])
    assert not check_signatures(from_note(cp.note.with_signature(retimed)), [LOG], [WITNESS]).ok
    # an unknown witness is ignored; a required one missing is a problem
    assert check_signatures(cp, [LOG]).ok and check_signatures(cp, [LOG]).unknown == 1
    assert not check_signatures(sign_tlog_checkpoint(PRIVATE, ORIGIN, 13, root(LEAVES)), [LOG], [WITNESS]).ok


def test_tlog_proofs_round_trip_and_refuse_mutations() -> None:
    cp = sign_tlog_checkpoint(PRIVATE, ORIGIN, 13, root(LEAVES))
    for index in (0, 6, 12):
        text = format_tlog_proof(index, inclusion_proof(LEAVES, index), cp, extra=DATA[index])
        assert text.startswith(f"c2sp.org/tlog-proof@v1\nextra {base64.b64encode(DATA[index]).decode()}\nindex {index}\n")
        assert check_tlog_proof(parse_tlog_proof(text), [LOG]) == []
        wrong_index = text.replace(f"\nindex {index}\n", f"\nindex {(index + 1) % 13}\n")
        assert check_tlog_proof(parse_tlog_proof(wrong_index), [LOG]) != []
        wrong_event = text.replace(base64.b64encode(DATA[index]).decode(), base64.b64encode(DATA[index - 1]).decode())
        assert check_tlog_proof(parse_tlog_proof(wrong_event), [LOG]) != []
        assert check_tlog_proof(parse_tlog_proof(text), [Verifier(ORIGIN, ED25519, WITNESS.public_key)]) != []


# -- outside implementations --------------------------------------------------------------------------------------
def test_sigstore_parses_and_verifies_our_checkpoints() -> None:
    from sigstore._internal.rekor.checkpoint import SignedCheckpoint
    from sigstore._internal.trust import Keyring
    from sigstore._utils import KeyID
    from sigstore.errors import VerificationError
    from sigstore_models.common import v1 as common_v1

    def ring(pem: bytes) -> Keyring:
        der = serialization.load_pem_public_key(pem).public_bytes(serialization.Encoding.DER,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        details = common_v1.PublicKeyDetails.PKIX_ED25519
        return Keyring([common_v1.PublicKey(raw_bytes=base64.b64encode(der), key_details=details)])

    from datetime import UTC, datetime

    for size, at in ((0, None), (1, None), (7, datetime(2026, 12, 1, 20, 10, tzinfo=UTC)), (13, None)):
        cp = cosign(sign_tlog_checkpoint(PRIVATE, ORIGIN, size, root(LEAVES, size=size), at), WITNESS_KEY,
                    "board.example.jp/witness", 1700000000)
        theirs = SignedCheckpoint.from_text(str(cp))
        assert (theirs.checkpoint.origin, theirs.checkpoint.log_size, theirs.checkpoint.log_hash) == (ORIGIN, size, cp.root)
        if at is not None:  # the signed time line: an extension sigstore keeps as "other content"
            assert theirs.checkpoint.other_content == ["ijime-flow-time 2026-12-01T20:10:00+00:00"]
            assert cp.issued_at == "2026-12-01T20:10:00+00:00"
        assert [(s.name, s.sig_hash) for s in theirs.signed_note.signatures] == [
            (ORIGIN, LOG.key_id_for(ORIGIN)), ("board.example.jp/witness", WITNESS.key_id_for("board.example.jp/witness"))]
        assert theirs.signed_note.note == cp.body
        theirs.signed_note.verify(ring(PUBLIC), KeyID(LOG.key_id_for(ORIGIN)))  # raises if it does not verify
        with pytest.raises(VerificationError):
            theirs.signed_note.verify(ring(generate_keypair()[1]), KeyID(LOG.key_id_for(ORIGIN)))
        with pytest.raises(VerificationError):
            SignedCheckpoint.from_text(str(cp).replace(f"\n{size}\n", f"\n{size + 1}\n")).signed_note.verify(
                ring(PUBLIC), KeyID(LOG.key_id_for(ORIGIN)))


def test_pymerkle_agrees_on_roots_and_proofs() -> None:
    from pymerkle import InmemoryTree
    from pymerkle import verify_consistency as their_consistency
    from pymerkle.proof import InvalidProof

    data = [f"event {i}".encode() for i in range(70)]
    ours = [leaf_hash(d) for d in data]
    tree = InmemoryTree(algorithm="sha256")  # security=True: leaves sha256(0x00 || d), nodes sha256(0x01 || l || r)
    tree.append_entries(data)
    assert tree.get_leaf(1) == hashlib.sha256(b"\x00" + data[0]).digest() == ours[0]
    for n in range(1, 71):
        assert tree.get_root(n) == root(ours, size=n) == MerkleLog(ours[:n]).root()
        for i in range(0, n, 7):
            path = tree.prove_inclusion(i + 1, n).serialize()["path"]  # 1-based; the path starts with the leaf itself
            assert [bytes.fromhex(h) for h in path[1:]] == inclusion_proof(ours, i, size=n)
        for m in range(1, n, 9):
            assert verify_consistency(m, n, root(ours, size=m), root(ours, size=n), consistency_proof(ours, m, size=n))
            their = tree.prove_consistency(m, n)
            their_consistency(root(ours, size=m), root(ours, size=n), their)  # raises if our roots were not consistent
            rewritten = [*ours[: m - 1], leaf_hash(b"rewritten"), *ours[m:n]]
            with pytest.raises(InvalidProof):
                their_consistency(root(ours, size=m), root(rewritten), their)
            assert not verify_consistency(m, n, root(ours, size=m), root(rewritten), consistency_proof(ours, m, size=n))
