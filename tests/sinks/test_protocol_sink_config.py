"""Site configuration of the SAPIENT and CAT062 sinks and the SAPIENT sensor."""

from __future__ import annotations

from pathlib import Path

import pytest

from skywarden.errors import ConfigError
from skywarden.geo import LocalFrame
from skywarden.service import make_feed
from skywarden.site_config import site_config_from_dict, site_config_to_dict
from skywarden.sources.sapient.feed import SapientFeed

BASE = {"site": {"lat": 47.0, "lon": 8.0}}
SAPIENT_SENSOR = {"name": "rf", "kind": "sapient", "transport": "tcp", "host": "127.0.0.1",
                  "port": 9000, "lat": 47.001, "lon": 8.001, "height_m": 12.0}  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sinks": {"sapient": "udp://127.0.0.1:9"}}, "sinks.sapient: must be tcp://HOST:PORT"),
        ({"sinks": {"sapient": "tcp://127.0.0.1"}}, "sinks.sapient: must be tcp://HOST:PORT"),
        ({"sinks": {"asterix_cat062": "tcp://h:9"}}, "sinks.asterix_cat062: must be udp://"),
        ({"sensors": [{**SAPIENT_SENSOR, "transport": "udp"}]}, "sapient sensor speaks over tcp"),
    ],
)
def test_bad_values_name_the_key(patch: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        site_config_from_dict({**BASE, **patch}, Path("."))


def test_sinks_and_sapient_sensor_load_and_survive_the_stored_form() -> None:
    doc = {**BASE, "sinks": {"sapient": "tcp://127.0.0.1:5020",
                             "asterix_cat062": "udp://127.0.0.1:8062"},
           "sensors": [SAPIENT_SENSOR]}  # fmt: skip
    cfg = site_config_from_dict(doc, Path("."))
    assert cfg.sapient == "tcp://127.0.0.1:5020" and cfg.asterix_cat062 == "udp://127.0.0.1:8062"
    again = site_config_from_dict(site_config_to_dict(cfg), Path("."))
    assert again.sensors[0].kind == "sapient"
    feed = make_feed(cfg.sensors[0], 0, LocalFrame(47.0, 8.0, 0.0))
    assert isinstance(feed, SapientFeed) and feed.place.lat == 47.001


def test_service_builds_the_configured_protocol_sinks() -> None:
    from skywarden.service import _protocol_sinks
    from skywarden.sinks.asterix_cat062 import Cat062Sink
    from skywarden.sinks.sapient import SapientSink

    doc = {**BASE, "sinks": {"sapient": "tcp://127.0.0.1:5020",
                             "asterix_cat062": "udp://127.0.0.1:8062"}}  # fmt: skip
    sinks = _protocol_sinks(site_config_from_dict(doc, Path(".")))
    assert [type(s) for s in sinks] == [SapientSink, Cat062Sink]
    assert (sinks[0].host, sinks[0].port) == ("127.0.0.1", 5020)
    assert (sinks[1].sender.host, sinks[1].sender.port) == ("127.0.0.1", 8062)
