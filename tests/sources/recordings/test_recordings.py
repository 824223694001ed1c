"""Recordings: format detection, inventories on the real files (data/README.md counts),
scan batching and replay chunks."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import NO_IDENTITY, icao_identity, make_detections
from skywarden.errors import InputError
from skywarden.sources.asterix.decoder import AsterixDecoder, decode_ast
from skywarden.sources.modes.beast import decode_beast, encode_beast
from skywarden.sources.modes.sbs import decode_sbs
from skywarden.sources.recordings.format import (
    HEAD_BYTES,
    RecordingFormat,
    capture_linktype,
    detect_format,
    parse_format,
)
from skywarden.sources.recordings.recording import (
    RecordingOptions,
    decode_recording,
    parse_date,
    parse_position,
    plan_scans,
    read_recording,
    scan_batches,
)
from skywarden.sources.remote_id.transports import decode_capture as decode_remote_id
from skywarden.sources.transport import FileReplay
from tests.conftest import recording

BCN = "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast"
BCN_DAY = parse_date("2023-05-02")
BEAST = "beastblackbox/ulss7-beast-bin-utc--1522782148.136310917--.log"
SBS = "beastblackbox/beast_decoded_sbs.txt"
PARROT = "cdc-remoteidreceiver/parrot_anafi4_real.pcapng"
CROATIA = "croatiacontrol-asterix/cat_034_048.pcap"

EXPECTED_FORMATS = {
    BCN: RecordingFormat.ASTERIX,
    "upc-pgta-lebl/201002-lebl-080001_smr.ast": RecordingFormat.ASTERIX,
    "goasterix/sample.ast": RecordingFormat.ASTERIX,
    "croatiacontrol-asterix/cat048.raw": RecordingFormat.ASTERIX,
    "croatiacontrol-asterix/cat21_re.ast": RecordingFormat.ASTERIX,
    "hpuhr-jasterix/cat062ed1.16.bin": RecordingFormat.ASTERIX,
    CROATIA: RecordingFormat.ASTERIX_PCAP,
    "croatiacontrol-asterix/asterix.pcap": RecordingFormat.ASTERIX_PCAP,
    "croatiacontrol-asterix/cat_001_002.pcap": RecordingFormat.ASTERIX_PCAP,
    "jmatiasbro-decoderasterix/260429.pcap": RecordingFormat.ASTERIX_PCAP,
    "jmatiasbro-decoderasterix/cba_010626.pcap": RecordingFormat.ASTERIX_PCAP,
    "jmatiasbro-decoderasterix/fds260429.pcap": RecordingFormat.ASTERIX_PCAP,
    PARROT: RecordingFormat.REMOTE_ID_PCAP,
    "opendroneid-wireshark/odid_bt5_lr_sample.pcapng": RecordingFormat.REMOTE_ID_PCAP,
    "opendroneid-wireshark/odid_wifi_bcn_sample.pcap": RecordingFormat.REMOTE_ID_PCAP,
    "opendroneid-wireshark/odid_wifi_sample.pcap": RecordingFormat.REMOTE_ID_PCAP,
    BEAST: RecordingFormat.BEAST,
    "beastblackbox/beast_extract_71be34.log": RecordingFormat.BEAST,
    SBS: RecordingFormat.SBS,
}
NOT_RECORDINGS = (
    "croatiacontrol-asterix/parsegps.gps",  # a recorder container we do not read
    "beastblackbox/beast_decoded_dump1090.txt",
    "pymodes/sample_data_adsb.csv",
    "pymodes/golden_v2.json",
    "inbo-bird-tracking/MH_WATERLAND_gps_586.csv",
    "phoenix-uav-tlog/2018-09-17_16-44-06.tlog",
)


def _head(path: Path) -> tuple[bytes, int]:
    with path.open("rb") as f:
        return f.read(HEAD_BYTES), path.stat().st_size


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_every_real_recording_type_is_detected(shared_data, name) -> None:
    head, size = _head(recording(shared_data, name))
    assert detect_format(head, name, size) is EXPECTED_FORMATS[name]


@pytest.mark.parametrize("name", NOT_RECORDINGS)
def test_other_files_are_not_taken_for_recordings(shared_data, name) -> None:
    head, size = _head(recording(shared_data, name))
    with pytest.raises(InputError, match="unknown recording format"):
        detect_format(head, name, size)


def test_detection_edge_cases() -> None:
    with pytest.raises(InputError, match="empty file"):
        detect_format(b"", "x.ast")
    # a pcap of another link type (USB, 189) is named as such
    pcap = b"\xd4\xc3\xb2\xa1" + bytes(16) + (189).to_bytes(4, "little")
    assert capture_linktype(pcap) == 189
    with pytest.raises(InputError, match="link type 189"):
        detect_format(pcap, "usb.pcap")
    one_block = bytes([48, 0, 4, 0])
    assert detect_format(one_block) is RecordingFormat.ASTERIX
    beast = encode_beast([bytes(7), bytes(14), b"\x1a" * 7], np.array([0, 26, 52]))
    assert detect_format(beast) is RecordingFormat.BEAST
    with pytest.raises(InputError):
        detect_format(bytes([48, 0, 9, 0]))  # block longer than the file
    assert detect_format(b"\n\nMSG,3,1,1,3C660C,1,,,,,\n") is RecordingFormat.SBS
    assert parse_format("AST") is RecordingFormat.ASTERIX
    with pytest.raises(InputError, match="unknown recording format 'gpx'"):
        parse_format("gpx")


def test_barcelona_inventory_matches_readme_and_decoder(shared_data) -> None:
    path = recording(shared_data, BCN)
    rec = read_recording(path, options=RecordingOptions(date_t=BCN_DAY))
    inv = rec.inventory.as_dict()
    records, decoder = decode_ast(path.read_bytes(), BCN_DAY + 43200.0)
    assert inv["format"] == "asterix"
    assert inv["records"] == {"CAT048": 44085} == {"CAT048": len(records.cat048)}
    assert inv["units"] == {"CAT048 blocks": 44085}
    assert inv["rejects"] == dict(decoder.rejects) == {}
    assert inv["sensors"] == ["20/129"]
    assert inv["icao_count"] == 177  # README: 177 distinct Mode S addresses
    assert len(set(inv["icao"])) == 177 and all(len(a) == 6 for a in inv["icao"])
    # ToD 28801-32400 s on 2023-05-02: 08:00-09:00 UTC
    assert inv["time"]["first"].startswith("2023-05-02T08:00:00")
    assert inv["time"]["last"].startswith("2023-05-02T09:00:00")
    assert 3590 < inv["time"]["span_s"] < 3600
    radar = inv["radars"][0]
    assert radar["sensor"] == "20/129" and radar["source"].startswith("built-in")
    assert inv["frame"]["source"] == "radar 20/129"
    # every plot within the 60 NM range: within ~1.0 degree of the radar
    box = inv["bbox"]
    assert 40.3 < box["lat_min"] < box["lat_max"] < 42.31
    assert 0.7 < box["lon_min"] < box["lon_max"] < 3.5
    assert inv["positions"] == len(rec.detections) == 44085
    assert rec.revisit_s == pytest.approx(4.0, abs=0.02)  # the antenna turns in 4 s
    assert np.all(np.diff(rec.detections.t) >= 0)


def test_barcelona_without_a_date_says_so(shared_data) -> None:
    inv = read_recording(recording(shared_data, BCN)).inventory
    assert inv.as_dict()["time"]["first"].startswith("1970-01-01T08:00")
    assert any("--date" in note for note in inv.notes)


def test_radar_option_moves_the_plots(shared_data) -> None:
    path = recording(shared_data, "croatiacontrol-asterix/cat048.raw")
    bare = read_recording(path).inventory
    assert bare.positions == 0 and bare.rejects == {"cat048_radar_position_unknown": 1}
    assert any("--radar" in note for note in bare.notes)
    rec = read_recording(path, options=RecordingOptions(radar=_site(45.0, 16.0, 100.0)))
    assert rec.inventory.positions == 1 and rec.inventory.radars[0]["source"] == "--radar"
    assert rec.identity_label(rec.detections.identity) == ["icao:3C660C"]  # DLH65A


def _site(lat: float, lon: float, h: float):
    from skywarden.sources.asterix.detections import RadarSite

    return RadarSite(lat, lon, h)


def test_croatian_capture_inventory(shared_data) -> None:
    path = recording(shared_data, CROATIA)
    inv = read_recording(path).inventory.as_dict()
    assert inv["units"]["UDP datagrams"] == 100
    assert inv["units"]["CAT048 blocks"] == 86 and inv["units"]["CAT034 blocks"] == 34
    assert inv["records"] == {"CAT034": 34, "CAT048": 128}
    assert inv["icao_count"] == 63
    assert {s.split("/")[0] for s in inv["sensors"]} == {"25"}
    assert 0.3 < inv["time"]["span_s"] < 0.5
    # one radar reports its position in CAT034 (43.57 N): its plots get positions
    (radar,) = inv["radars"]
    assert radar["source"] == "CAT034 I034/120" and radar["lat_deg"] == pytest.approx(43.57, 0.01)
    unknown = inv["rejects"]["cat048_radar_position_unknown"]
    assert inv["positions"] + unknown == 128


def test_bad_and_old_asterix_is_counted_not_invented(shared_data) -> None:
    old = read_recording(recording(shared_data, "croatiacontrol-asterix/asterix.pcap")).inventory
    assert old.records == {} and old.positions == 0
    assert sum(old.rejects.values()) == 100  # every one of the 100 old-edition blocks
    bad = read_recording(recording(shared_data, "croatiacontrol-asterix/cat_001_002.pcap"))
    assert bad.inventory.rejects == {"bad_block_length": 1}
    smr = read_recording(recording(shared_data, "upc-pgta-lebl/201002-lebl-080001_smr.ast"))
    assert smr.inventory.units == {"CAT010 blocks": 52659}
    assert smr.inventory.rejects == {"unsupported_category": 52659}


def test_argentine_capture_counts(shared_data) -> None:
    inv = read_recording(recording(shared_data, "jmatiasbro-decoderasterix/UIS.pcap")).inventory
    assert inv.units["UDP datagrams"] == 7576
    assert inv.units["CAT034 blocks"] == 5936 and inv.units["CAT048 blocks"] == 1640
    assert inv.sensors == ["226/221"] and inv.icao == []  # not a Mode S radar
    assert 22 * 60 < inv.t_last - inv.t_first < 24 * 60
    assert inv.positions == 0  # its CAT034 gives no position: the user must give --radar


def test_beast_inventory_matches_readme_and_decoder(shared_data) -> None:
    path = recording(shared_data, BEAST)
    inv = read_recording(path).inventory.as_dict()
    frames, rejects = decode_beast(path.read_bytes())
    assert inv["units"]["frames"] == 13954 == len(frames)
    assert inv["records"]["Mode A/C"] == 5026
    assert inv["records"]["Mode S short"] == 4942
    assert inv["records"]["Mode S long"] == 3986
    icaos = (shared_data / "beastblackbox/ICAOs.txt").read_text().split()
    assert set(inv["icao"]) == {w for w in icaos if len(w) == 6 and w.isalnum() and w != "unique"}
    assert inv["records"]["position reports"] == inv["positions"] == 1456
    assert inv["time"]["first"] == "2018-04-03T19:02:28.136Z"  # from the file name
    assert 59.3 < inv["bbox"]["lat_min"] < inv["bbox"]["lat_max"] < 61.0


def test_sbs_inventory_matches_readme_and_decoder(shared_data) -> None:
    path = recording(shared_data, SBS)
    inv = read_recording(path).inventory
    records, rejects = decode_sbs(path.read_bytes())
    msg = {k: v for k, v in inv.records.items() if k.startswith("MSG,")}
    assert sum(msg.values()) == 8622 == len(records)
    assert sum(inv.rejects.values()) == 3 == sum(rejects.values())
    assert inv.positions == 1456 and len(inv.icao) == 11


def test_remote_id_inventories(shared_data) -> None:
    parrot = read_recording(recording(shared_data, PARROT)).inventory
    rejects: Counter[str] = Counter()
    messages = decode_remote_id(recording(shared_data, PARROT).read_bytes(), rejects)
    assert parrot.units["frames"] == 5091
    assert parrot.units["frames with Remote ID (wifi_beacon)"] == 1140
    assert sum(v for k, v in parrot.records.items() if k != "position reports") == len(messages)
    assert parrot.remote_ids == ["1588E040445AC004418 (id type 1)"]
    assert parrot.positions == parrot.records["position reports"] == 124
    assert parrot.bbox["lat_min"] == pytest.approx(47.1987, abs=1e-3)
    assert parrot.bbox["lon_max"] == pytest.approx(8.7302, abs=1e-3)
    assert 122 < parrot.t_last - parrot.t_first < 123.5
    bt5 = read_recording(recording(shared_data, "opendroneid-wireshark/odid_bt5_lr_sample.pcapng"))
    assert bt5.inventory.remote_ids == ["SSEVTFG93700070 (id type 1)"]
    assert bt5.inventory.positions == 0 and bt5.inventory.bbox is None  # no GPS fix
    assert bt5.inventory.rejects["ble_crc_bad"] == 30


def test_origin_option_and_identity_labels(shared_data) -> None:
    path = recording(shared_data, PARROT)
    rec = read_recording(path, options=RecordingOptions(origin=(47.0, 8.0, 400.0)))
    assert rec.inventory.frame == {
        "lat_deg": 47.0,
        "lon_deg": 8.0,
        "h_m": 400.0,
        "source": "--origin",
    }
    assert np.hypot(*rec.detections.z[0, :2]) > 50_000  # ~60 km from that origin
    assert set(rec.identity_label(rec.detections.identity)) == {"rid:1588E040445AC004418"}
    assert rec.identity_label(np.array([NO_IDENTITY, icao_identity(0x3C660C)])) == [
        "",
        "icao:3C660C",
    ]


def test_replay_chunks_give_back_the_recording(shared_data) -> None:
    ast = recording(shared_data, BCN)
    chunks = list(FileReplay(read_recording(ast).chunks(), speed=math.inf))
    assert b"".join(c for _, c in chunks) == ast.read_bytes()
    times = np.array([t for t, _ in chunks])
    assert np.all(np.diff(times) >= 0) and len(chunks) == 44085
    decoder = AsterixDecoder()
    total = sum(len(decoder.decode(block).cat048) for _, block in chunks[:500])
    assert total == 500  # one record per block
    for name in (BEAST, SBS):
        path = recording(shared_data, name)
        chunks = list(read_recording(path).chunks())
        assert b"".join(c for _, c in chunks) == path.read_bytes()
        assert np.all(np.diff([t for t, _ in chunks]) >= 0)
    pcap = list(read_recording(recording(shared_data, CROATIA)).chunks())
    assert len(pcap) == 100 and all(c[0] in (34, 48) for _, c in pcap)


@pytest.mark.parametrize("fmt", list(RecordingFormat))
@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_give_a_recording_or_an_input_error(fmt, data) -> None:
    try:
        rec = decode_recording(data, "random.bin", fmt, RecordingOptions())
    except InputError:
        return
    assert rec.inventory.positions == len(rec.detections)


def test_damaged_real_capture_never_raises_anything_else(shared_data) -> None:
    data = recording(shared_data, PARROT).read_bytes()
    for cut in (10, 40, 1000, 100_001):
        try:
            decode_recording(data[:cut], "cut.pcapng", None, RecordingOptions())
        except InputError as exc:
            assert "cut.pcapng" in str(exc)


def test_read_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_recording(tmp_path / "missing.ast")
    with pytest.raises(InputError, match="folder"):
        read_recording(tmp_path)


def test_parse_options() -> None:
    assert parse_date("2023-05-02") == 1682985600.0
    for bad in ("2023-02-30", "02/05/2023", "1969-12-31", ""):
        with pytest.raises(InputError, match="YYYY-MM-DD"):
            parse_date(bad)
    assert parse_position("41.3,2.1", "--radar") == (41.3, 2.1, 0.0)
    assert parse_position("41.3, 2.1, 27", "--radar") == (41.3, 2.1, 27.0)
    for bad in ("41.3", "a,b", "91,0", "1,2,3,4", "nan,1"):
        with pytest.raises(InputError, match="--radar"):
            parse_position(bad, "--radar")


# ----------------------------------------------------------------------------- batching


def test_plan_scans_windows_and_coast_time() -> None:
    radar = plan_scans(4.0)
    assert radar.batches_per_revisit == 8 and radar.period_s == 0.5
    assert radar.tracker_settings() == {"max_coast_s": 12.5}
    adsb = plan_scans(0.52)
    assert adsb.batches_per_revisit == 2 and adsb.tracker_settings()["max_coast_s"] == 6.0
    assert plan_scans(60.0).batches_per_revisit == 8  # capped
    with pytest.raises(InputError):
        plan_scans(0.0)


@settings(max_examples=60, deadline=None)
@given(
    t=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=60),
    ids=st.lists(st.integers(-1, 4), min_size=60, max_size=60),
    period=st.floats(0.05, 5.0),
    max_empty=st.integers(0, 10),
)
def test_scan_batches_properties(t, ids, period, max_empty) -> None:
    n = len(t)
    identity = np.array([NO_IDENTITY if i < 0 else icao_identity(i) for i in ids[:n]])
    dets = make_detections(np.array(t), np.zeros((n, 3)), 1.0, identity=identity)
    plan = plan_scans(period * 4)
    period = plan.period_s
    batches = scan_batches(dets, plan, max_empty=max_empty)
    out = list(batches)
    assert len(out) == len(batches)
    times = [bt for bt, _, _ in out]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert out[-1][2]  # the last batch always closes the scan
    windows = np.round((np.array(times) - batches.start_t) / period - 0.5).astype(int)
    ends = np.array([e for _, _, e in out])
    assert np.array_equal(ends[:-1], (windows[:-1] + 1) % plan.batches_per_revisit == 0)
    kept = 0
    for bt, d, _ in out:
        assert np.all(np.abs(d.t - bt) <= period / 2 + 1e-9)
        with_id = d.identity[d.identity != NO_IDENTITY]
        assert with_id.size == np.unique(with_id).size  # one report per identity
        kept += len(d)
    assert kept + batches.dropped_same_identity == n
    # the report kept for an identity is the one nearest its batch time
    for bt, d, _ in out:
        for key in np.unique(d.identity[d.identity != NO_IDENTITY]):
            window = np.floor((dets.t - batches.start_t) / period)
            same = (dets.identity == key) & (window == np.floor((bt - batches.start_t) / period))
            best = np.abs(dets.t[same] - bt).min()
            assert np.abs(d.t[d.identity == key][0] - bt) == pytest.approx(best)


# ------------------------------------------------------------------ synthetic radar files


def _synthetic_ast(tod0: float, seconds: float, rotation_s: float = 4.0) -> tuple[bytes, dict]:
    """CAT034 north markers (radar position, rotation period) + CAT048 plots of one aircraft
    flying east at 200 m/s, 30 km north of the radar, one plot per rotation."""
    from skywarden.sources.asterix.encode import (
        encode_cat034,
        encode_cat048,
        radar_service_messages,
    )
    from skywarden.sources.asterix.records import Cat048Records

    truth = {"radar": (45.0, 10.0, 50.0), "speed": 200.0, "north": 30_000.0, "x0": -10_000.0}
    tod = tod0 + np.arange(0.0, seconds, rotation_s)
    x = truth["x0"] + truth["speed"] * (tod - tod0)
    ground = np.hypot(x, truth["north"])
    n = tod.size
    plots = Cat048Records.from_columns(
        {
            "sac": np.full(n, 7),
            "sic": np.full(n, 9),
            "tod_s": np.mod(tod, 86400.0),
            "typ": np.full(n, 5),
            "range_m": np.hypot(ground, 3000.0),
            "azimuth_rad": np.mod(np.arctan2(x, truth["north"]), 2 * np.pi),
            "pressure_altitude_m": np.full(n, 3000.0),
            "mode_c_valid": np.ones(n, bool),
            "address": np.full(n, 0xABCDEF),
        },
        n,
    )
    markers = radar_service_messages(
        7,
        9,
        np.mod(tod[:1] - 0.5, 86400.0),
        np.zeros(1),
        rotation_period_s=rotation_s,
        radar_lat_deg=45.0,
        radar_lon_deg=10.0,
        radar_height_m=50.0,
    )
    return b"".join(encode_cat034(markers) + encode_cat048(plots)), truth


def test_raw_recording_running_past_midnight_goes_on_into_the_next_day() -> None:
    data, _ = _synthetic_ast(86400.0 - 20.0, 40.0)
    day = parse_date("2024-02-28")
    rec = decode_recording(data, "midnight.ast", None, RecordingOptions(date_t=day))
    t = rec.detections.t
    assert t[0] == pytest.approx(day + 86380.0) and t[-1] == pytest.approx(day + 86416.0)
    assert np.all(np.diff(t) == pytest.approx(4.0))
    inv = rec.inventory
    assert inv.radars[0]["source"] == "CAT034 I034/120" and inv.revisit_s == 4.0
    assert inv.frame["source"] == "radar 7/9" and inv.icao == ["ABCDEF"]


def test_batched_radar_plots_track_the_truth() -> None:
    from skywarden.track.params import TrackerParams
    from skywarden.track.run import run_tracker

    data, truth = _synthetic_ast(36000.0, 120.0)
    rec = decode_recording(data, "line.ast", None, RecordingOptions(date_t=0.0))
    plan = plan_scans(rec.revisit_s)
    params = TrackerParams(**plan.tracker_settings())
    history, _ = run_tracker(scan_batches(rec.detections, plan), params)
    assert np.unique(history.id).size == 1  # one aircraft, one track, no break
    # with 8 windows per rotation, the last batch is within 0.25 s of the last plot
    t_last = rec.detections.t[-1]
    last = history.t == history.t.max()
    assert abs(history.t.max() - t_last) <= 0.25 + 1e-9
    east = truth["x0"] + truth["speed"] * (history.t.max() - rec.detections.t[0])
    est = history.x[last][0]
    # the site frame is the radar's ENU: compare horizontally (Earth curvature ~70 m at 30 km)
    assert est[0] == pytest.approx(east, abs=150.0)
    assert est[1] == pytest.approx(truth["north"], abs=200.0)
    assert est[3] == pytest.approx(truth["speed"], abs=10.0)
