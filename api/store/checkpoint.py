"""Signed checkpoints of the audit log: proof, kept outside the database, of what the log held at a moment.

The chain's hashes are unkeyed: whoever can write to the database can change a record and recompute every hash
after it, or cut the last records off and move the head back, and the chain alone still looks intact. A
checkpoint is the head (record number and hash) signed with an Ed25519 key that lives in a file the database
administrator need not have. Checked later against the log, it proves that nothing up to that record was changed
(the record's hash covers every record before it) and that the log was not cut off before it. It proves nothing
about records written after it: take checkpoints regularly (e.g. from cron) and keep them off the database host.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from .db import AuditHead, AuditRecord, Database

FORMAT = "biotoets-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A key or checkpoint file that cannot be used; the message says which and why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def create_key(path: Path) -> Ed25519PublicKey:
    """A new signing key in ``path`` (readable by its owner only, never overwritten) and its public half in
    ``path.pub``; returns the public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(f"{path} exists: a signing key is never overwritten") from None
    except OSError as exc:
        raise CheckpointError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = key.public_key()
    Path(f"{path}.pub").write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    return public


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read the {what} {path}: {exc.strerror}") from None


def load_private(path: Path) -> Ed25519PrivateKey:
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CheckpointError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 key (make one with 'biotoets audit keygen')")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """The public key in ``path``: a public key file, or the signing key itself."""
    data = _read(path, "public key")
    if b"PRIVATE KEY" in data:
        return load_private(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise CheckpointError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


def _signed_part(doc: Mapping[str, Any]) -> bytes:
    return orjson.dumps({k: doc[k] for k in ("format", "seq", "hash", "at", "key")}, option=orjson.OPT_SORT_KEYS)


def make(db: Database, key: Ed25519PrivateKey, now: dt.datetime) -> dict[str, Any]:
    """A signed checkpoint of the log's head as it is now."""
    with db.read() as conn:
        seq, head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    public = key.public_key()
    doc: dict[str, Any] = {"format": FORMAT, "seq": int(seq), "hash": head, "at": now.isoformat(),
                           "key": fingerprint(public)}
    doc["public_key"] = _b64(_raw_public(public))
    doc["signature"] = _b64(key.sign(_signed_part(doc)))
    return doc


@dataclass(frozen=True)
class Checked:
    seq: int
    at: str
    key: str
    problems: list[str]


def load(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(_read(path, "checkpoint"))
    except orjson.JSONDecodeError:
        raise CheckpointError(f"{path} is not a checkpoint (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this format ({FORMAT})")
    if not (isinstance(doc.get("seq"), int) and all(isinstance(doc.get(k), str)
                                                   for k in ("hash", "at", "key", "public_key", "signature"))):
        raise CheckpointError(f"{path} lacks a field a checkpoint has (seq, hash, at, key, public_key, signature)")
    return doc


def check(db: Database, doc: dict[str, Any], trusted: Ed25519PublicKey | None) -> Checked:
    """Problems found comparing the log with a checkpoint: a bad signature, a changed record, a cut-off log.

    ``trusted`` is the public key the checkpoint must be signed with; without it the key inside the checkpoint
    is used, which proves only that the file is unchanged since someone signed it -- compare its fingerprint."""
    problems: list[str] = []
    try:
        signer = trusted or Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"], validate=True))
        signer.verify(base64.b64decode(doc["signature"], validate=True), _signed_part(doc))
        if fingerprint(signer) != doc["key"]:
            raise InvalidSignature
    except (InvalidSignature, ValueError):
        problems.append(f"the checkpoint of record {doc['seq']} is not signed by "
                        + ("the trusted key" if trusted else "the key it names") + ": it cannot be relied on")
        return Checked(doc["seq"], doc["at"], doc["key"], problems)
    seq = doc["seq"]
    with db.read() as conn:
        last = conn.execute(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).limit(1)).scalar()
        at_seq = conn.execute(select(AuditRecord.hash).where(AuditRecord.seq == seq)).scalar()
    if seq > 0 and (last or 0) < seq:
        problems.append(f"the log was cut off: the checkpoint of {doc['at']} signed record {seq}, "
                        f"the log now ends at record {last or 0}")
    elif seq > 0 and at_seq != doc["hash"]:
        problems.append(f"record {seq} is not the one signed at {doc['at']}: the log was changed at or before it")
    return Checked(seq, doc["at"], doc["key"], problems)
