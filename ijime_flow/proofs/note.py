"""C2SP signed notes (https://c2sp.org/signed-note): text, a blank line, and one signature line per key.

A note is UTF-8 text ending in a newline, then a blank line, then lines ``— <key name> <base64(key ID ||
signature)>``. No ASCII control character but the newline; key names non-empty, without Unicode spaces
or ``+``; the text ends at the *last* blank line. The key ID is the first four bytes of
``SHA-256(key name || 0x0A || signature type || public key)``; the type byte is ``0x01`` for an Ed25519
note signature over the text (:data:`ED25519`) and ``0x04`` for a timestamped Ed25519 cosignature
(:data:`COSIGNATURE`, :mod:`ijime_flow.proofs.witness`).

Verifier keys (*vkeys*) are ``<key name>+<hex key ID>+<base64(type || 32-byte Ed25519 public key)>``.

Private keys stay what ``ijime-flow keygen`` has always written: Ed25519 PKCS #8 PEM, unencrypted, mode
0600 — a PEM key holds no name, so the name is given where it signs (the origin for a log, ``--name``
for a witness). The Go ``golang.org/x/mod/sumdb/note`` signer form ``PRIVATE+KEY+<name>+<hex key
ID>+<base64(0x01 || 32-byte seed)>`` is read too (:func:`load_signer`), and then carries its name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .checkpoint import load_private_key, load_public_key

__all__ = [
    "COSIGNATURE",
    "ED25519",
    "Note",
    "NoteSignature",
    "Verifier",
    "check_key_name",
    "key_id",
    "load_signer",
    "load_verifier",
    "parse_note",
    "parse_vkey",
    "sign_note",
]

ED25519 = 0x01
"""Signature type of an Ed25519 note signature (signed-note.md)."""
COSIGNATURE = 0x04
"""Signature type of a timestamped Ed25519 checkpoint cosignature (tlog-cosignature.md)."""

MAX_SIGNATURES = 100
"""At most this many signature lines are read (the spec asks for at least 16)."""
MAX_NOTE_BYTES = 1 << 20

_DASH = "\u2014 "
_SPACES = re.compile(r"\s")


def proof_text(data: bytes | str) -> str:
    """A proof file's text; ``ValueError`` when its bytes are not UTF-8."""
    if isinstance(data, bytes | bytearray):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the proof file is not UTF-8") from None
    return data


def b64decode_canonical(text: str, what: str) -> bytes:
    """Standard base64 that re-encodes to the same text; ``ValueError`` naming ``what`` otherwise."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw


def check_key_name(name: object, what: str = "key name") -> str:
    """A key name or origin: non-empty, printable, no Unicode space, no ``+``; ``ValueError`` otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"the {what} must be non-empty text")
    if _SPACES.search(name) or "+" in name or not name.isprintable() or "\u2014" in name:
        raise ValueError(f"the {what} {name[:80]!r} must hold no space, no '+', no em dash and no control character")
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` (signed-note.md, tlog-cosignature.md)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + bytes(public_key)).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode('ascii')}\n"


@dataclass(frozen=True)
class Note:
    """A signed note: ``text`` (ending in a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, signature: NoteSignature) -> Note:
        """The same note with one more line; a line of the same key (name and ID) is replaced."""
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) != (signature.name, signature.key_id))
        return Note(self.text, (*kept, signature))


def parse_note(data: bytes | str) -> Note:
    """A signed note from its bytes; ``ValueError`` naming what is wrong (no signature is checked here)."""
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_NOTE_BYTES:
            raise ValueError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the note is not UTF-8") from None
    if not isinstance(data, str):
        raise ValueError(f"a note must be text, not {type(data).__name__}")
    if any(ord(c) < 0x20 and c != "\n" for c in data) or "\x7f" in data:
        raise ValueError("the note holds a control character (only newlines are allowed: no CR, no tab)")
    if not data.endswith("\n"):
        raise ValueError("the note does not end with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise ValueError("the note has no blank line before its signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not text.strip("\n") or text.startswith("\n"):
        raise ValueError("the note has no text before its signatures")
    lines = block.split("\n")[:-1]
    if not lines:
        raise ValueError("the note has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_DASH) or line.count(" ") != 2:
            raise ValueError(f"signature line {number} is not '— <key name> <base64 signature>'")
        name, encoded = line[len(_DASH) :].split(" ")
        check_key_name(name)
        raw = b64decode_canonical(encoded, f"signature line {number}")
        if len(raw) < 5:
            raise ValueError(f"signature line {number} is shorter than a key ID and a signature")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


@dataclass(frozen=True)
class Verifier:
    """A public key that may sign or cosign notes: its name, type and 32-byte Ed25519 key.

    ``name`` is ``None`` for a key read from PEM, which names no one: it then matches a signature line
    of any name whose key ID is the one this key would have under that name."""

    name: str | None
    sig_type: int
    public_key: bytes

    def key_id_for(self, name: str) -> bytes:
        return key_id(name, self.sig_type, self.public_key)

    def matches(self, signature: NoteSignature) -> bool:
        """The line is this key's (name and ID both), so its signature must verify."""
        if self.name is not None and signature.name != self.name:
            return False
        return signature.key_id == self.key_id_for(signature.name)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @property
    def vkey(self) -> str:
        """The ``<name>+<hex key ID>+<base64(type || key)>`` text; ``ValueError`` for a nameless key."""
        if self.name is None:
            raise ValueError("a key read from PEM has no name: give one to make a verifier key")
        check_key_name(self.name)
        encoded = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id_for(self.name).hex()}+{encoded}"

    def shown(self) -> str:
        return self.vkey if self.name is not None else "(PEM public key)"


def parse_vkey(text: str) -> Verifier:
    """A verifier key from its text; ``ValueError`` when it is not an Ed25519 (0x01) or cosignature (0x04) vkey
    whose key ID matches its name and key."""
    text = text.strip()
    parts = text.split("+", 2)  # the base64 key may itself hold "+"
    if len(parts) != 3:
        raise ValueError("a verifier key is '<name>+<hex key ID>+<base64 key>' (three parts joined by '+')")
    name, hex_id, encoded = parts
    check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise ValueError(f"the key ID {hex_id[:20]!r} is not 8 lowercase hex digits")
    raw = b64decode_canonical(encoded, "the verifier key")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise ValueError("the verifier key is not an Ed25519 key (type 0x01, or 0x04 for a witness) of 32 bytes")
    found = Verifier(name, raw[0], raw[1:])
    if found.key_id_for(name) != bytes.fromhex(hex_id):
        raise ValueError(f"the key ID {hex_id} is not the one of this name and key: the verifier key was altered")
    return found


def load_verifier(data: bytes | str, sig_type: int = ED25519) -> Verifier:
    """A vkey text, or an Ed25519 PEM public key (nameless, of type ``sig_type``); ``ValueError`` otherwise."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    if "-----BEGIN" in text:
        return Verifier(None, sig_type, load_public_key(text).public_bytes_raw())
    return parse_vkey(text)


def load_signer(data: bytes | str) -> tuple[Ed25519PrivateKey, str | None]:
    """A private key: PKCS #8 PEM (no name) or ``PRIVATE+KEY+<name>+<hex ID>+<base64(0x01 || seed)>``."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    if not text.startswith("PRIVATE+KEY+"):
        return load_private_key(text), None
    parts = text.strip().split("+", 4)
    if len(parts) != 5:
        raise ValueError("a note signer key is 'PRIVATE+KEY+<name>+<hex key ID>+<base64 key>'")
    name = check_key_name(parts[2])
    raw = b64decode_canonical(parts[4], "the signer key")
    if len(raw) != 33 or raw[0] != ED25519:
        raise ValueError("the signer key is not an Ed25519 (type 0x01) key of 32 bytes")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if key_id(name, ED25519, private.public_key().public_bytes_raw()).hex() != parts[3]:
        raise ValueError("the signer key's ID does not match its name and key")
    return private, name


def sign_note(text: str, private_key: Ed25519PrivateKey, name: str) -> NoteSignature:
    """An Ed25519 (0x01) signature line over ``text`` by the key named ``name``."""
    check_key_name(name)
    public = private_key.public_key().public_bytes_raw()
    return NoteSignature(name, key_id(name, ED25519, public), private_key.sign(text.encode("utf-8")))
