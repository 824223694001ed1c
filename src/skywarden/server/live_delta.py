"""The live stream's ``delta`` encoding: a keyframe, then only what changed.

At 1,000 tracks a snapshot's JSON is ~400 kB, most of it trails that repeat what the client
already has. With ``/api/v1/live?encoding=delta`` a client gets, zlib-compressed (RFC 1950):

* a **keyframe** ``{"type": "key", "seq": S, ...the full snapshot JSON...}`` first, and again
  every ``KEYFRAME_EVERY`` broadcasts;
* then **deltas** ``{"type": "delta", "seq": S, "base": B, "t", "site", "schema", "upsert":
  [...], "remove": [ids], "alerts", "sensors", "health"}`` against the broadcast ``B`` before.
  ``upsert`` holds, per new or changed track, its ``id`` and only the fields that changed
  (all fields for a new track); a trail that only moved on is sent as ``trail_add`` (the new
  points) and ``trail_len`` (the trail's length after them). Alerts, sensors and health are
  small and sent whole. Values are those of the full JSON (already rounded for the wire).

A client applies a delta only when its ``base`` is the ``seq`` it holds; otherwise (it missed
one) it waits for the next keyframe or reconnects, which starts with one. :func:`apply` is the
reference client (the map's JavaScript does the same); applying every message of a stream in
order reproduces each snapshot's full JSON exactly.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

KEYFRAME_EVERY = 20  # broadcasts between keyframes (10 s at 2 Hz)
DELTA_LEVEL = 3  # zlib level, as the deflate encoding


def keyframe(doc: dict[str, Any]) -> dict[str, Any]:
    """A full snapshot document (:meth:`Snapshot.to_json`) as a keyframe message."""
    return {"type": "key", **doc}


def delta(previous: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """The message that turns the snapshot document ``previous`` into ``doc``."""
    before = {row["id"]: row for row in previous["tracks"]}
    upsert = []
    for row in doc["tracks"]:
        old = before.get(row["id"])
        if old is None:
            upsert.append(row)
            continue
        change = {k: v for k, v in row.items() if k != "trail" and old.get(k) != v}
        trail, old_trail = row["trail"], old["trail"]
        if trail != old_trail:
            kept = _overlap(old_trail, trail)
            if kept > 0:
                change["trail_add"] = trail[kept:]
                change["trail_len"] = len(trail)
            else:
                change["trail"] = trail
        if change:
            upsert.append({"id": row["id"], **change})
    now = {row["id"] for row in doc["tracks"]}
    return {
        "type": "delta",
        "schema": doc["schema"],
        "seq": doc["seq"],
        "base": previous["seq"],
        "t": doc["t"],
        "site": doc["site"],
        "upsert": upsert,
        "remove": [i for i in before if i not in now],
        "alerts": doc["alerts"],
        "sensors": doc["sensors"],
        "health": doc["health"],
    }


def _overlap(old: list, new: list) -> int:
    """How many leading points of ``new`` are the last points of ``old`` (the ring buffer grew
    or moved on by the rest); 0 when it did not just grow or move on."""
    for shift in range(len(old) + 1):
        kept = len(old) - shift
        if kept == 0:
            return 0
        if kept <= len(new) and old[shift] == new[0] and old[shift:] == new[:kept]:
            return kept
    return 0


def apply(state: dict[str, Any] | None, message: dict[str, Any]) -> dict[str, Any] | None:
    """The snapshot document after ``message`` (the reference client). A keyframe replaces the
    state; a delta whose base is not the state's seq gives None (wait for a keyframe)."""
    if message["type"] == "key":
        return {k: v for k, v in message.items() if k != "type"}
    if state is None or message["base"] != state["seq"]:
        return None
    rows = {row["id"]: row for row in state["tracks"]}
    order = [row["id"] for row in state["tracks"]]
    for change in message["upsert"]:
        old = rows.get(change["id"])
        if old is None:
            rows[change["id"]] = dict(change)
            order.append(change["id"])
            continue
        row = {**old, **{k: v for k, v in change.items() if not k.startswith("trail_")}}
        if "trail_add" in change:
            row["trail"] = (old["trail"] + change["trail_add"])[-change["trail_len"] :]
        rows[change["id"]] = row
    gone = set(message["remove"])
    keys = ("schema", "seq", "t", "site")
    out = {k: message[k] for k in keys}
    out["tracks"] = [rows[i] for i in order if i not in gone]
    out.update(alerts=message["alerts"], sensors=message["sensors"], health=message["health"])
    return out


class DeltaEncoder:
    """Encodes each broadcast snapshot once for every ``delta`` client: a keyframe every
    KEYFRAME_EVERY broadcasts (and first), else a delta against the previous broadcast."""

    def __init__(self, keyframe_every: int = KEYFRAME_EVERY) -> None:
        self.keyframe_every = keyframe_every
        self._previous: dict[str, Any] | None = None
        self._count = 0

    def first_message(self, doc: dict[str, Any]) -> bytes:
        """A joining client's first message: a keyframe of the last broadcast document (the
        next delta's base), or of ``doc`` (the current snapshot) before any broadcast."""
        previous = self._previous
        return compress(keyframe(previous if previous is not None else doc))

    def encode(self, doc: dict[str, Any]) -> bytes:
        """The compressed message for the next broadcast snapshot document."""
        key = self._previous is None or self._count % self.keyframe_every == 0
        message = keyframe(doc) if key else delta(self._previous, doc)
        self._previous = doc
        self._count += 1
        return compress(message)


def compress(message: dict[str, Any]) -> bytes:
    """A message as compact JSON, zlib-compressed."""
    data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    return zlib.compress(data, DELTA_LEVEL)


def ordered_tracks(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A document's tracks by id (the order a client may hold them in after deltas)."""
    return sorted(doc["tracks"], key=lambda row: row["id"])
