"""ASTERIX decoding on the real recordings: the counts of data/README.md, editions, rejections."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.sources.asterix.decoder import (
    AsterixDecoder,
    decode_ast,
    decode_capture,
    split_blocks,
)
from skywarden.sources.asterix.records import resolve_time_of_day
from tests.conftest import recording

BCN = "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast"
BCN_DAY = 1682985600.0  # 2023-05-02 00:00 UTC


@pytest.fixture(scope="module")
def barcelona(shared_data):
    data = recording(shared_data, BCN).read_bytes()
    return decode_ast(data, BCN_DAY + 43200.0)


def test_barcelona_cat048_count_and_addresses(barcelona) -> None:
    records, decoder = barcelona
    plots = records.cat048
    assert len(plots) == 44085
    assert decoder.blocks == {48: 44085}
    assert not decoder.rejects
    assert len(np.unique(plots.address[plots.address >= 0])) == 177
    assert set(zip(plots.sac.tolist(), plots.sic.tolist(), strict=True)) == {(20, 129)}
    assert 28800.0 <= plots.tod_s.min() and plots.tod_s.max() <= 32401.0
    assert plots.range_m.max() <= 60.0 * 1852.0 + 1.0
    assert np.all((plots.t - BCN_DAY) == plots.tod_s)  # 08:00-09:00 UTC on 2023-05-02
    assert (plots.callsign != "").sum() > 40000


def _capture(shared_data, name, decoder=None):
    return decode_capture(recording(shared_data, name).read_bytes(), decoder)


def test_croatian_pcap_counts(shared_data) -> None:
    records, decoder = _capture(shared_data, "croatiacontrol-asterix/cat_034_048.pcap")
    assert decoder.blocks == {48: 86, 34: 34}
    assert decoder.records == {48: 128, 34: 34}
    assert len(records.cat048) == 128 and len(records.cat034) == 34
    assert not decoder.rejects
    a = records.cat048.address
    assert len(np.unique(a[a >= 0])) == 63
    assert np.nanmax(records.cat048.range_m) / 1852.0 == pytest.approx(244.7, abs=0.05)
    lat = records.cat034.radar_lat_deg[np.isfinite(records.cat034.radar_lat_deg)]
    assert lat.size >= 1 and np.allclose(lat, 43.57, atol=0.01)
    assert set(records.cat048.sac.tolist()) == {25}
    # capture time is the reference: POSIX t on 2016-05-05 around 07:35 UTC
    assert np.all(np.abs(records.cat048.t - 1462433700.0) < 3600.0)


@pytest.mark.parametrize(
    ("name", "cat034", "cat048", "sic"),
    [
        ("jmatiasbro-decoderasterix/260429.pcap", 16366, 3541, 232),
        ("jmatiasbro-decoderasterix/UIS.pcap", 5936, 1640, 221),
        ("jmatiasbro-decoderasterix/cba_010626.pcap", 11522, 3803, 210),
    ],
)
def test_argentine_pcaps_block_counts(shared_data, name, cat034, cat048, sic) -> None:
    records, decoder = _capture(shared_data, name)
    assert decoder.blocks == {34: cat034, 48: cat048}
    assert decoder.records[48] >= cat048  # every block decodes
    assert set(records.cat048.sac.tolist()) == {226} and set(records.cat048.sic.tolist()) == {sic}
    rejects = dict(decoder.rejects)
    if name.endswith("cba_010626.pcap"):
        assert rejects == {"trailing_bytes": 15325}  # every datagram's 8-byte vendor trailer
    else:
        assert rejects == {}
    if name.endswith("260429.pcap"):
        assert (records.cat048.address >= 0).sum() == 0  # non-Mode-S radar
        assert np.nanmax(records.cat048.range_m) / 1852.0 == pytest.approx(255.9, abs=0.05)


def test_cba_trailer_is_counted_and_block_still_decodes(shared_data) -> None:
    from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams

    data = recording(shared_data, "jmatiasbro-decoderasterix/cba_010626.pcap").read_bytes()
    payload = next(udp_datagrams(iter_frames(data))).payload
    decoder = AsterixDecoder()
    records = decoder.decode(payload)
    assert len(records) == 1 and decoder.rejects == {"trailing_bytes": 1}
    assert decoder.decode(payload[:-8]) and decoder.rejects == {"trailing_bytes": 1}


def test_fds_cat062_count(shared_data) -> None:
    """50,640 CAT062 records: counted with the structure walk; values via libasterix on a part."""
    from skywarden.sources.asterix.decoder import split_blocks
    from skywarden.sources.asterix.editions import default_editions
    from skywarden.sources.asterix.structure import compile_record, walk_blocks
    from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams

    data = recording(shared_data, "jmatiasbro-decoderasterix/fds260429.pcap").read_bytes()
    datagrams = list(udp_datagrams(iter_frames(data)))
    assert len(datagrams) == 10503
    buf = b"".join(d.payload for d in datagrams)
    from collections import Counter

    rejects: Counter[str] = Counter()
    starts, cats, lengths = split_blocks(buf, rejects)
    assert set(cats) == {62} and not rejects
    s, n = np.asarray(starts), np.asarray(lengths)
    layout = compile_record(default_editions()[62][0].spec.cv_uap.cv_record)
    walked = walk_blocks(layout, np.frombuffer(buf + bytes(16), np.uint8), s + 3, s + n)
    assert walked.block_ok.all() and walked.block_supported.all()
    assert walked.block.size == 50640
    decoder = AsterixDecoder()
    records = decoder.decode_datagrams(
        [d.payload for d in datagrams[:300]], [d.t for d in datagrams[:300]]
    )
    assert len(records.cat062) == np.count_nonzero(walked.block < 300)
    tracks = records.cat062
    assert tracks.lat_deg.min() >= -39.8 and tracks.lat_deg.max() <= -23.7
    assert tracks.lon_deg.min() >= -70.2 and tracks.lon_deg.max() <= -54.1
    assert set(tracks.sac.tolist()) == {226} and set(tracks.sic.tolist()) == {2}


def test_old_cat062_edition_is_rejected_not_invented(shared_data) -> None:
    records, decoder = _capture(shared_data, "croatiacontrol-asterix/asterix.pcap")
    assert len(records.cat062) == 0  # no impossible latitudes
    assert decoder.rejects == {"undecodable_block": 72, "implausible_values": 28}


def test_bad_block_length(shared_data) -> None:
    records, decoder = _capture(shared_data, "croatiacontrol-asterix/cat_001_002.pcap")
    assert len(records) == 0 and decoder.rejects == {"bad_block_length": 1}


def test_unsupported_categories_counted(shared_data) -> None:
    data = recording(shared_data, "goasterix/sample.ast").read_bytes()
    records, decoder = decode_ast(data)
    assert len(records.cat048) == 11 and len(records.cat034) == 1
    assert set(zip(records.cat048.sac.tolist(), records.cat048.sic.tolist(), strict=True)) == {
        (8, 24)
    }
    others = sum(n for cat, n in decoder.blocks.items() if cat not in (34, 48))
    assert others == 5 and decoder.rejects == {"unsupported_category": 5}


def test_cat062_with_cat065(shared_data) -> None:
    records, decoder = _capture(shared_data, "croatiacontrol-asterix/cat_062_065.pcap")
    tracks = records.cat062
    assert len(tracks) == 2 and decoder.rejects == {"unsupported_category": 1}
    assert np.all((tracks.lat_deg > 41.1) & (tracks.lat_deg < 41.5))
    assert np.all((tracks.lon_deg > 15.6) & (tracks.lon_deg < 19.5))


@pytest.mark.parametrize(
    ("name", "cat", "major"),
    [
        ("cat021ed0.26.bin", 21, 0),
        ("cat021ed2.1.bin", 21, 2),
        ("cat034ed1.26.bin", 34, 1),
        ("cat048ed1.15.bin", 48, 1),
        ("cat048ed1.23.bin", 48, 1),
        ("cat062ed1.12.bin", 62, 1),
        ("cat062ed1.16.bin", 62, 1),
    ],
)
def test_jasterix_single_blocks_by_edition(shared_data, name, cat, major) -> None:
    data = recording(shared_data, f"hpuhr-jasterix/{name}").read_bytes()
    records, decoder = decode_ast(data)
    batch = {21: records.cat021, 34: records.cat034, 48: records.cat048, 62: records.cat062}[cat]
    assert len(batch) == 1 and not decoder.rejects
    (key, edition), *_ = [(k, s) for k, s in decoder.memory.items() if k[0] == cat]
    assert edition.version[0] == major, edition.name


def test_cat021_editions_decode_to_plausible_values(shared_data) -> None:
    old, _ = decode_ast(recording(shared_data, "hpuhr-jasterix/cat021ed0.26.bin").read_bytes())
    new, _ = decode_ast(recording(shared_data, "hpuhr-jasterix/cat021ed2.1.bin").read_bytes())
    for reports in (old.cat021, new.cat021):
        assert np.all(np.abs(reports.lat_deg) <= 90.0) and reports.address[0] >= 0
    re_records, decoder = decode_ast(
        recording(shared_data, "croatiacontrol-asterix/cat21_re.ast").read_bytes()
    )
    assert len(re_records.cat021) == 2 and not decoder.rejects


def test_raw_single_records(shared_data) -> None:
    records, _ = decode_ast(
        recording(shared_data, "croatiacontrol-asterix/cat048.raw").read_bytes()
    )
    plot = records.cat048
    assert plot.callsign.tolist() == ["DLH65A"] and plot.address.tolist() == [0x3C660C]
    assert plot.pressure_altitude_m[0] == pytest.approx(330 * 100 * 0.3048)


def test_split_blocks_reasons() -> None:
    from collections import Counter

    rejects: Counter[str] = Counter()
    good = bytes.fromhex("220007c0010201")
    assert split_blocks(good + b"\x40\x02\x20\x0a", rejects)[0] == [0]
    assert split_blocks(b"\x30\x00\x02" + good, rejects)[0] == []
    assert rejects == {"trailing_bytes": 1, "bad_block_length": 1}


def test_time_of_day_resolution_across_midnight() -> None:
    day = 1700000000.0 // 86400 * 86400
    t = resolve_time_of_day(
        np.array([86399.0, 1.0]), np.array([day + 86400.0 + 0.5, day + 86399.5])
    )
    assert t.tolist() == [day + 86399.0, day + 86401.0]
    assert np.isnan(resolve_time_of_day(np.array([5.0]), np.nan)[0])
