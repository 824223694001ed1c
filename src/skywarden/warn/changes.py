"""Runtime changes of the warning settings by a person (zones, alert rules, allow-list).

Every change made through the API is a :class:`SettingChange`: when (POSIX s), who and with
which role, what kind, and the whole setting in force afterwards (JSON), so that the audit
shows it, the history stores it, a restart restores it and ``skywarden replay`` re-applies it
at its recorded time. ``base`` is the digest of the configured (file) zones the change was
made over: a restart restores a runtime change only while the file still says what it said
then; an edited file wins over older runtime changes (see :func:`restorable`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("zones", "rules", "allow")


@dataclass(frozen=True)
class SettingChange:
    """One change: ``t`` POSIX s, ``who``/``role`` the principal ('' when authentication is
    off), ``kind`` (one of KINDS), ``document`` the new setting as JSON text, ``base`` the
    digest of the configured setting it replaced."""

    t: float
    who: str
    role: str
    kind: str
    document: str
    base: str = ""

    def to_audit(self) -> dict[str, Any]:
        """The change as an audit entry (same keys as the alert actions')."""
        document = json.loads(self.document)
        if self.kind == "zones":
            features = document.get("features", [])
            ids = [str(f.get("id", "")) for f in features if isinstance(f, dict)]
            summary = f"{len(ids)} zones: {', '.join(ids)}" if ids else "no zones"
        elif self.kind == "rules":
            names = [str(r.get("name", "")) for r in document]
            summary = f"{len(names)} rules: {', '.join(names)}" if names else "no rules"
        else:
            summary = f"{len(document)} allow-list entries"
        return {
            "t": self.t, "alert_id": None, "action": f"put_{self.kind}", "who": self.who,
            "role": self.role, "state": None, "zone_id": None, "note": summary,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SettingChange:
        """From a history ``changes`` row (a dict of its columns)."""
        return cls(
            float(row["t"]), str(row["who"]), str(row["role"]), str(row["kind"]),
            str(row["document"]), str(row.get("base") or ""),
        )  # fmt: skip


def digest(document: Any) -> str:
    """A stable digest of a JSON-able setting (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def restorable(changes: Iterable[SettingChange], kind: str, base: str) -> SettingChange | None:
    """The latest change of ``kind``, if it was made over the configured setting whose digest
    is ``base`` (else None: the configuration was edited since, and it wins)."""
    latest = None
    for change in changes:
        if change.kind == kind and (latest is None or change.t >= latest.t):
            latest = change
    return latest if latest is not None and latest.base == base else None
