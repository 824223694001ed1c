"""Bus messages: pictures round-trip through their JSON, subjects cannot be steered by names,
and bad or oversized raw messages and requests are counted and dropped, never a crash."""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.bus.core import CoreCounters, RawMessages
from skywarden.bus.picture import (
    COMPRESS_ABOVE_BYTES,
    BusMessageError,
    decode_picture,
    encode_picture,
)
from skywarden.bus.rpc import answer, decode_reply, encode_request
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import HEADER_ENCODING, SiteSubjects, token
from skywarden.pipeline import Pipeline
from skywarden.site_config import site_config_from_dict
from skywarden.warn.alerts import AlertError


def _snapshot_with_tracks(n: int):
    """A real pipeline's snapshot of n straight-flying radar tracks."""
    from skywarden.detections import make_detections

    config = site_config_from_dict({"site": {"name": "s", "lat": 50.0, "lon": 4.0}}, Path("."))
    pipeline = Pipeline(config, clock=lambda: 100.0)
    rng = np.random.default_rng(1)
    start = rng.uniform(-5000, 5000, (n, 2))
    snapshot = None
    for k in range(6):
        z = np.column_stack([start + 20.0 * k, np.full(n, 300.0)])
        dets = make_detections(np.full(n, 100.0 + k), z, 100.0)
        snapshot, _ = pipeline.process(100.0 + k, dets)
    return snapshot


def test_picture_round_trip_keeps_the_wire_json() -> None:
    snapshot = _snapshot_with_tracks(40)
    assert len(snapshot.tracks) > 10
    payload, headers = encode_picture(snapshot)
    back = decode_picture(payload, headers)
    assert back.json_bytes == snapshot.json_bytes  # sent as the core encoded it
    again = json.loads(type(back)(**{f: getattr(back, f) for f in
                                     ("seq", "t", "site", "tracks", "alerts", "sensors", "health")}
                                  ).json_bytes)  # fmt: skip
    assert again == json.loads(snapshot.json_bytes)  # the decoded arrays encode the same
    np.testing.assert_array_equal(back.tracks.id, snapshot.tracks.id)


def test_large_pictures_are_deflated_and_bombs_refused() -> None:
    snapshot = _snapshot_with_tracks(300)
    payload, headers = encode_picture(snapshot)
    assert len(snapshot.json_bytes) > COMPRESS_ABOVE_BYTES and headers[HEADER_ENCODING]
    assert len(payload) < len(snapshot.json_bytes) / 3
    assert decode_picture(payload, headers).json_bytes == snapshot.json_bytes
    with pytest.raises(BusMessageError):
        decode_picture(b"garbage", {HEADER_ENCODING: "deflate"})
    with pytest.raises(BusMessageError):
        decode_picture(zlib.compress(b"[" * 10), {HEADER_ENCODING: "deflate"})


@given(st.binary(max_size=300))
def test_random_bytes_are_never_a_picture_crash(data: bytes) -> None:
    try:
        decode_picture(data, None)
    except BusMessageError:
        pass


@given(st.text(max_size=40))
def test_names_cannot_steer_subjects(name: str) -> None:
    t = token(name)
    assert t and not set(t) & set(".*> \t\r\n")
    subjects = SiteSubjects.of(name)
    assert subjects.raw(name).count(".") == 3


@dataclass
class _Msg:
    subject: str
    data: bytes
    headers: dict | None


def test_bad_raw_messages_are_counted() -> None:
    config = site_config_from_dict(
        {"site": {"name": "s", "lat": 50.0, "lon": 4.0},
         "sensors": [{"name": "radar 1", "kind": "asterix", "transport": "udp", "port": 9,
                      "lat": 50.0, "lon": 4.0}]}, Path("."))  # fmt: skip
    counters = CoreCounters()
    raw = RawMessages(config, BusConfig(urls=("nats://h:1",), max_raw_bytes=100), counters)
    subject = SiteSubjects.of("s").raw("radar 1")
    good = raw.parse(_Msg(subject, b"\x30\x00\x03", {"Sw-T": "12.5", "Sw-Conn": "2"}))
    assert good == (12.5, "radar 1", b"\x30\x00\x03", 2)
    for msg in (
        _Msg(subject, b"x", None),
        _Msg(subject, b"x", {"Sw-T": "noon"}),
        _Msg(subject, b"x", {"Sw-T": "nan"}),
        _Msg(subject, b"x" * 101, {"Sw-T": "1"}),
        _Msg(SiteSubjects.of("s").raw("other"), b"x", {"Sw-T": "1"}),
    ):
        assert raw.parse(msg) is None
    assert counters.rejects == Counter(bad_header=3, oversized=1, unknown_sensor=1)


class _Backend:
    def acknowledge(self, alert_id, who, note="", role=""):
        if alert_id == 404:
            raise KeyError(alert_id)
        raise AlertError("already cleared")

    def zones_geojson(self):
        return {"type": "FeatureCollection", "features": [], "x": math.nan}


def test_requests_and_replies() -> None:
    rejects: Counter = Counter()
    backend = _Backend()
    reply = answer(backend, encode_request("zones_geojson"), rejects)
    assert decode_reply("zones_geojson", reply, RuntimeError)["x"] is None  # NaN-safe JSON
    with pytest.raises(KeyError):
        decode_reply("acknowledge", answer(backend, encode_request(
            "acknowledge", alert_id=404, who="a"), rejects), RuntimeError)  # fmt: skip
    with pytest.raises(AlertError, match="already cleared"):
        decode_reply("acknowledge", answer(backend, encode_request(
            "acknowledge", alert_id=1, who="a"), rejects), RuntimeError)  # fmt: skip
    bad_args = b'{"method": "health", "args": {"x": 1}}'
    for bad in (b"\xff", b"[]", b'{"method": "shutdown"}', bad_args, b"{" * 5_000_000):
        with pytest.raises(RuntimeError):
            decode_reply("health", answer(backend, bad, rejects), RuntimeError)
    assert rejects == Counter(not_json=1, bad_request=2, unknown_method=1, oversized=1)
