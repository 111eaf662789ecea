"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): the checkpoint format written now.

A checkpoint is a signed note (:mod:`.note`) whose text is exactly three lines::

    example.jp/board-13/school-0421
    42
    base64 of the 32-byte RFC 6962 root

— the **origin** (chosen by the operator, one per log: ``<board domain>/<school id>``), the tree size
in decimal without leading zeros, the root in standard base64 — then a blank line and signature lines:
the school's Ed25519 note signature (key name = the origin, type 0x01) and any witness cosignatures
(:mod:`.witness`, type 0x04). One extension line may follow the root — the only one written:

    ijime-flow-time 2026-12-01T20:10:00+00:00

the time the school signed (ISO 8601, UTC), covered by every signature like the rest of the text (as
Rekor's checkpoints carry a ``Timestamp:`` line): with it, a bundle proven against the checkpoint
catches an event recorded before the checkpoint that claims a place after it. Clients that do not know
the line ignore it, as tlog-checkpoint says of extension lines; other extension lines are read and kept.

:func:`parse_checkpoint` reads this and the JSON checkpoints of earlier versions (``"format": 1``,
:mod:`.checkpoint`), so an old checkpoint still verifies; :func:`check_signatures` says which known keys
signed and cosigned either kind.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .checkpoint import Checkpoint, from_json
from .merkle import EMPTY_ROOT, HASH_SIZE
from .note import Note, check_key_name, load_signer, parse_note, sign_note

__all__ = ["NO_ORIGIN", "TIME_LINE", "AnyCheckpoint", "TlogCheckpoint", "checkpoint_body", "from_note", "parse_checkpoint",
           "sign_tlog_checkpoint"]

NO_ORIGIN = ("起点名（origin）を指定してください。教育委員会のドメインと学校IDで、例: --origin board.example.jp/school-0421"
             "（学校ごとに一つ、変えないこと） / give the log's origin, one per school and never changed, e.g."
             " --origin board.example.jp/school-0421 (<board domain>/<school id>)")
_SIZE = re.compile(r"0|[1-9][0-9]*")
TIME_LINE = "ijime-flow-time "
"""The extension line that carries the time the checkpoint was signed."""


@dataclass(frozen=True)
class TlogCheckpoint:
    """A parsed C2SP checkpoint: the origin, size and root of its text, and the whole signed note."""

    origin: str
    size: int
    root_bytes: bytes
    extensions: tuple[str, ...]
    note: Note = field(repr=False)

    @property
    def root(self) -> str:
        return self.root_bytes.hex()

    @property
    def log_id(self) -> str:
        return self.origin

    @property
    def issued_at(self) -> str:
        """The signed time of its ``ijime-flow-time`` extension line ('' without one: a witness's cosignature
        then carries the only signed time)."""
        for line in self.extensions:
            if line.startswith(TIME_LINE):
                return line.removeprefix(TIME_LINE)
        return ""

    @property
    def body(self) -> str:
        """The note text the signatures cover: origin, size, root (and any extension lines), each ended by a newline."""
        return self.note.text

    @property
    def described(self) -> str:
        return f"{self.origin} at size {self.size}"

    def __str__(self) -> str:
        return str(self.note)


AnyCheckpoint = Checkpoint | TlogCheckpoint


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    check_key_name(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a non-negative integer, not {size!r}")
    if not isinstance(root, bytes | bytearray | memoryview) or len(root) != HASH_SIZE:
        raise ValueError("root must be the 32 bytes of a SHA-256 Merkle tree hash")
    return f"{origin}\n{size}\n{base64.b64encode(bytes(root)).decode('ascii')}\n"


def from_note(note: Note) -> TlogCheckpoint:
    """The checkpoint a note's text states; ``ValueError`` if the text is not origin, size, root."""
    lines = note.text.split("\n")[:-1]
    if len(lines) < 3 or any(not line for line in lines):
        raise ValueError("a checkpoint's text is at least three non-empty lines: origin, size, root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _SIZE.fullmatch(size):
        raise ValueError(f"the tree size {size[:40]!r} is not a decimal number without leading zeros")
    try:
        raw = base64.b64decode(root.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValueError("the root hash is not base64") from None
    if len(raw) != HASH_SIZE or base64.b64encode(raw).decode("ascii") != root:
        raise ValueError(f"the root hash is not the canonical base64 of {HASH_SIZE} bytes")
    if int(size) == 0 and raw != EMPTY_ROOT:
        raise ValueError("a checkpoint of size 0 must have the root of the empty tree")
    return TlogCheckpoint(origin, int(size), raw, tuple(lines[3:]), note)


def parse_checkpoint(data: bytes | str) -> AnyCheckpoint:
    """A C2SP checkpoint, or a JSON one of format 1; ``ValueError`` naming the problem (no signature checked)."""
    head = data[:64].lstrip() if isinstance(data, bytes | bytearray | str) else data
    if (isinstance(head, bytes | bytearray) and head.startswith(b"{")) or (isinstance(head, str) and head.startswith("{")):
        return from_json(data)
    return from_note(parse_note(data))


def sign_tlog_checkpoint(private_key: bytes | str, origin: str, size: int, root: bytes,
                         at: datetime | None = None) -> TlogCheckpoint:
    """A C2SP checkpoint signed with the log's key. The key name is the origin, or the name a ``PRIVATE+KEY``
    key carries. ``at``: the signing time, written as the ``ijime-flow-time`` extension line (in UTC).
    ``ValueError`` for a missing or malformed origin (:data:`NO_ORIGIN`), a naive time, or a bad key."""
    if not origin:
        raise ValueError(NO_ORIGIN)
    body = checkpoint_body(origin, size, root)
    if at is not None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("the checkpoint's time must carry its time zone")
        body += f"{TIME_LINE}{at.astimezone(UTC).replace(microsecond=0).isoformat()}\n"
    key, name = load_signer(private_key)
    return from_note(Note(body, (sign_note(body, key, name or origin),)))
