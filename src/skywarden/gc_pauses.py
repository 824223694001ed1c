"""Keeping Python's cyclic garbage collector from pausing the live service for long.

A full (generation 2) collection walks every container object the process holds and stops
every thread while it does, the tick's worker included. A service process holds a few hundred
thousand of them from start-up alone (FastAPI, pydantic, uvicorn, DuckDB, NumPy, the site's
configuration, the classifier's model), all long-lived: measured in ``skywarden run`` at 1,000
targets with 50 WebSocket clients (benchmarks/live_load.py), 4-5 full collections a minute of
110-216 ms each (load 4.4), each one a tick's latency.

* :func:`freeze_start_up` once start-up is done: collect what start-up left as garbage, then
  move every object that survived into the permanent generation (``gc.freeze``), which later
  collections skip. Objects made after it are collected as before; what start-up built stays
  alive anyway, so nothing that could be freed is kept.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> int:
    """Collect, then freeze what survives (module docstring). Returns how many objects the
    permanent generation holds (gc.get_freeze_count()). Call it once the process has built
    what it keeps for its life, before it serves; calling it again freezes what was built
    since (still collected first)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw_start_up() -> None:
    """Undo :func:`freeze_start_up` (gc.unfreeze) when the service stops: a process that goes
    on (a test session) collects those objects again once they are garbage."""
    gc.unfreeze()
