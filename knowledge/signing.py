"""What a person signs, as data: the clauses shown, their digest (the version signed), and which clauses changed
between two versions.

Parents sign the pack's agreement (`Pack.agreement_clauses`: the signed text the parser marks `-agreement`, e.g.
"10.5-agreement", with its lead-in clause "10.5"); staff acknowledge every clause. A version is the SHA-256 of the
clauses' ids and verbatim texts in document order, so rewording a school's notes (summaries, headings) changes
nothing, while a changed word of the policy opens a new version. Each clause also has its own fingerprint, kept
with the signature, so a later version can show the signer only what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from knowledge.clause import Clause
from knowledge.pack import Pack

KINDS = ("agreement", "acknowledgement")  # parents sign the agreement; staff acknowledge the policy
SHORT = 12  # the digest as people are shown it


def clause_fingerprint(clause: Clause) -> str:
    """One clause's id and verbatim text, hashed."""
    return hashlib.sha256(json.dumps([clause.id, clause.text], ensure_ascii=False).encode("utf-8")).hexdigest()


def clauses_digest(clauses: list[Clause] | tuple[Clause, ...]) -> str:
    """The version of a set of clauses: one hash over their fingerprints in document order."""
    ordered = sorted(clauses, key=lambda c: (c.order, c.id))
    return hashlib.sha256(json.dumps([clause_fingerprint(c) for c in ordered]).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Changes:
    """What differs between a version someone signed and the current one."""

    changed: tuple[Clause, ...]  # reworded or new clauses, as they read now
    removed: tuple[str, ...]  # ids of clauses no longer in the text

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


@dataclass(frozen=True)
class SignedText:
    """The clauses one kind of signer is shown, with the version they make."""

    kind: str
    clauses: tuple[Clause, ...]

    @property
    def digest(self) -> str:
        return clauses_digest(self.clauses)

    @property
    def short(self) -> str:
        return self.digest[:SHORT]

    def fingerprints(self) -> dict[str, str]:
        return {c.id: clause_fingerprint(c) for c in self.clauses}

    def changes_since(self, fingerprints: dict[str, str]) -> Changes:
        """Clauses reworded or added since a version whose fingerprints are given, and clauses taken out."""
        changed = tuple(c for c in self.clauses if fingerprints.get(c.id) != clause_fingerprint(c))
        now = {c.id for c in self.clauses}
        return Changes(changed, tuple(i for i in fingerprints if i not in now))


def signed_text(pack: Pack, kind: str) -> SignedText:
    """What `kind` signers are shown: the agreement's clauses (parents) or every clause (staff)."""
    if kind not in KINDS:
        raise ValueError(f"not a kind of signature: {kind!r}")
    clauses = pack.agreement_clauses() if kind == "agreement" else list(pack.clauses)
    return SignedText(kind, tuple(clauses))
