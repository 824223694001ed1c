"""The checked-in libasterix subset decodes the real recordings as the whole libasterix does.

``sources/asterix/libasterix_subset/`` is generated from libasterix's ``asterix.generated``
(see ``scripts/generate_asterix_subset.py``); the decoder's default editions come from it, so
that ``skywarden inspect`` need not import the whole 6.4 MB module. Full libasterix stays the
reference: every real ASTERIX file in ../shared/data is decoded with the subset's editions
and with the full module's, through the libasterix path and the fast paths, and the records,
counters and chosen editions must be identical.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skywarden.sources.asterix.decoder import AsterixDecoder, AsterixRecords, split_blocks
from skywarden.sources.asterix.editions import Edition, default_editions, editions_of
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from tests.conftest import recording

ROOT = Path(__file__).resolve().parents[3]
PCAPS = (
    "croatiacontrol-asterix/asterix.pcap",
    "croatiacontrol-asterix/cat_034_048.pcap",
    "croatiacontrol-asterix/cat_062_065.pcap",
    "jmatiasbro-decoderasterix/260429.pcap",
    "jmatiasbro-decoderasterix/UIS.pcap",
    "jmatiasbro-decoderasterix/cba_010626.pcap",
    "jmatiasbro-decoderasterix/fds260429.pcap",
)
RAW = (  # data blocks back to back
    "croatiacontrol-asterix/cat034.raw",
    "croatiacontrol-asterix/cat048.raw",
    "croatiacontrol-asterix/cat062cat065.raw",
    "croatiacontrol-asterix/cat21_re.ast",
    "goasterix/sample.ast",
    "hpuhr-jasterix/cat021ed0.26.bin",
    "hpuhr-jasterix/cat021ed2.1.bin",
    "hpuhr-jasterix/cat034ed1.26.bin",
    "hpuhr-jasterix/cat048ed1.15.bin",
    "hpuhr-jasterix/cat048ed1.23.bin",
    "hpuhr-jasterix/cat062ed1.12.bin",
    "hpuhr-jasterix/cat062ed1.16.bin",
    "upc-pgta-lebl/201002-lebl-080001_smr.ast",
    "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast",
)
SUBSET = "skywarden.sources.asterix.libasterix_subset"
SLOW_PATH_BYTES = 25_000  # the libasterix path decodes ~5k records/s: a part of each file


@pytest.fixture(scope="module")
def full_editions() -> dict[int, tuple[Edition, ...]]:
    import asterix.generated

    return editions_of(asterix.generated.manifest)


def _datagrams(shared_data: Path, name: str) -> tuple[list[bytes], list[float]]:
    data = recording(shared_data, name).read_bytes()
    datagrams = list(udp_datagrams(iter_frames(data)))
    return [d.payload for d in datagrams], [d.t for d in datagrams]


def _assert_same(a: AsterixRecords, b: AsterixRecords) -> None:
    for cat in ("cat048", "cat021", "cat062", "cat034"):
        ra, rb = getattr(a, cat), getattr(b, cat)
        assert len(ra) == len(rb), cat
        for name, dtype in type(ra).dtypes().items():
            x, y = getattr(ra, name), getattr(rb, name)
            if dtype.kind == "f":
                np.testing.assert_array_equal(x, y, err_msg=f"{cat}.{name}")  # NaN == NaN here
            else:
                assert np.array_equal(x, y), f"{cat}.{name}"


def _assert_same_decoders(a: AsterixDecoder, b: AsterixDecoder) -> None:
    assert a.blocks == b.blocks and a.records == b.records and a.rejects == b.rejects
    assert a.memory == b.memory  # the same editions (number and class name) chosen


def test_subset_has_every_edition_of_the_full_module(full_editions) -> None:
    subset = default_editions()
    assert subset.keys() == full_editions.keys()
    for cat, editions in subset.items():
        assert editions == full_editions[cat]  # number and class name, in the same order
        for ours, theirs in zip(editions, full_editions[cat], strict=True):
            assert ours.given is None and ours.spec is not theirs.spec
            assert ours.spec.__module__ == f"{SUBSET}.cat{cat:03d}"
            assert (ours.spec.__name__, tuple(ours.spec.cv_edition)) == (
                theirs.spec.__name__,
                tuple(theirs.spec.cv_edition),
            )


def test_checked_in_layouts_are_those_compiled_from_the_subset_classes() -> None:
    from skywarden.sources.asterix.editions import edition_layout
    from skywarden.sources.asterix.layouts import compile_layout

    for cat in (48, 34, 62):
        for edition in default_editions()[cat]:
            assert edition_layout(edition) == compile_layout(edition.spec), edition


def test_another_libasterix_version_compiles_the_layouts_from_its_classes(
    shared_data, monkeypatch
) -> None:
    """Checked-in layouts of another libasterix are not used: the editions are listed and
    their layouts compiled from the installed library's classes, with the same records."""
    from skywarden.sources.asterix import compiled_editions, editions

    data = recording(shared_data, "croatiacontrol-asterix/cat_034_048.pcap").read_bytes()
    payloads = [d.payload for d in udp_datagrams(iter_frames(data))]
    times = [0.0] * len(payloads)
    checked_in = AsterixDecoder()
    expected = checked_in.decode_datagrams(payloads, times)
    listed = dict(checked_in.editions)
    monkeypatch.setattr(compiled_editions, "LIBASTERIX_VERSION", "0.0.0")
    monkeypatch.setattr(compiled_editions, "EDITIONS", {})  # a KeyError if still read
    monkeypatch.setattr(compiled_editions, "LAYOUTS", {})
    editions._layout.cache_clear()
    compiled = AsterixDecoder()
    assert dict(compiled.editions) == listed
    _assert_same(compiled.decode_datagrams(payloads, times), expected)
    _assert_same_decoders(compiled, checked_in)
    editions._layout.cache_clear()


def test_the_installed_version_is_read_from_its_dist_info() -> None:
    from importlib import metadata

    from skywarden.sources.asterix.libasterix_subset import installed_libasterix_version

    assert installed_libasterix_version() == metadata.version("libasterix")


def test_another_libasterix_version_falls_back_to_the_whole_module(monkeypatch, caplog) -> None:
    import asterix.generated

    from skywarden.sources.asterix import libasterix_subset
    from skywarden.sources.asterix.libasterix_subset import cat048

    assert libasterix_subset.category_manifest(48) is cat048.manifest
    monkeypatch.setattr(libasterix_subset, "installed_libasterix_version", lambda: "9.9.9")
    libasterix_subset._warn_once.cache_clear()
    with caplog.at_level("WARNING"):
        assert libasterix_subset.category_manifest(48) is asterix.generated.manifest
        assert libasterix_subset.category_manifest(62) is asterix.generated.manifest
    assert sum("9.9.9" in r.getMessage() for r in caplog.records) == 1  # logged once
    libasterix_subset._warn_once.cache_clear()


def test_checked_in_subset_is_what_the_script_generates_from_installed_libasterix() -> None:
    """After a libasterix upgrade the decoder falls back to the whole module (above); rerun
    the script and commit its output to get the fast start-up back."""
    from skywarden.sources.asterix.libasterix_subset import cat048, installed_libasterix_version

    if cat048.libasterix_version != installed_libasterix_version():
        pytest.skip(
            f"libasterix {installed_libasterix_version()} installed, the subset is from "
            f"{cat048.libasterix_version}: rerun scripts/generate_asterix_subset.py"
        )
    spec = importlib.util.spec_from_file_location(
        "generate_asterix_subset", ROOT / "scripts" / "generate_asterix_subset.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    texts = script.generated_texts()
    assert len(texts) == 5  # four category modules and compiled_editions.py
    for path, text in texts.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale"


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "libasterix_path"])
@pytest.mark.parametrize("name", PCAPS)
def test_pcap_decodes_record_for_record_as_full_libasterix(
    shared_data, full_editions, name, fast
) -> None:
    payloads, times = _datagrams(shared_data, name)
    if not fast:  # keep the slow path's share of each file small
        keep = np.cumsum([len(p) for p in payloads]) <= SLOW_PATH_BYTES
        payloads, times = payloads[: max(1, int(keep.sum()))], times[: max(1, int(keep.sum()))]
    ours = AsterixDecoder(fast=fast)
    reference = AsterixDecoder(fast=fast, editions=full_editions)
    _assert_same(
        ours.decode_datagrams(payloads, times), reference.decode_datagrams(payloads, times)
    )
    _assert_same_decoders(ours, reference)
    assert sum(ours.records.values()) + sum(ours.rejects.values()) > 0


@pytest.mark.parametrize("fast", [True, False], ids=["fast_paths", "libasterix_path"])
@pytest.mark.parametrize("name", RAW)
def test_raw_blocks_decode_record_for_record_as_full_libasterix(
    shared_data, full_editions, name, fast
) -> None:
    data = recording(shared_data, name).read_bytes()
    if not fast and len(data) > SLOW_PATH_BYTES:
        starts, _, lengths = split_blocks(data, Counter())
        ends = [s + n for s, n in zip(starts, lengths, strict=True) if s + n <= SLOW_PATH_BYTES]
        data = data[: ends[-1]]  # whole blocks only
    ours = AsterixDecoder(fast=fast)
    reference = AsterixDecoder(fast=fast, editions=full_editions)
    _assert_same(ours.decode(data, 1.6e9), reference.decode(data, 1.6e9))
    _assert_same_decoders(ours, reference)
    assert sum(ours.blocks.values()) > 0


def test_a_cat034_048_recording_imports_no_spec_classes(shared_data) -> None:
    """Inspecting a radar recording whose blocks all take the fast paths loads none of
    libasterix's spec classes (neither the whole module nor any category's subset): the
    layouts are checked in."""
    path = recording(shared_data, "croatiacontrol-asterix/cat_034_048.pcap")
    code = (
        "import sys\n"
        "from skywarden.sources.asterix.decoder import decode_capture\n"
        f"records, _ = decode_capture(open({str(path)!r}, 'rb').read())\n"
        "assert len(records.cat048) == 128 and len(records.cat034) == 34\n"
        "print(sorted(m for m in sys.modules if m.startswith('asterix.') or 'subset.' in m))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
