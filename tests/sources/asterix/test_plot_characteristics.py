"""I048/130 radar plot characteristics (PAM, PRL, SAM, SRL): decoding, encoding, bad input.

Oracles: libasterix's own record objects (the fallback path) for the vectorised path, on
every record of the Barcelona recording; the TYP of each plot (a primary amplitude belongs
to plots with a primary detection); hand-made bytes for the malformed cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from asterix.generated import Cat_048_1_32
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.encode import encode_cat048
from skywarden.sources.asterix.records import Cat048Records
from skywarden.sources.asterix.structure import compile_record, compound_subitem_starts
from skywarden.units import DEG
from tests.conftest import recording
from tests.sources.asterix.test_cat048_fast import assert_same_records

BCN = "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast"
BCN_NOON = 1683028800.0  # 2023-05-02 12:00 UTC
RUNLENGTH_LSB_RAD = 360.0 / 2**13 * DEG
AMPLITUDES = ("primary_amplitude_dbm", "ssr_amplitude_dbm")
RUNLENGTHS = ("primary_runlength_rad", "ssr_runlength_rad")
TYP_WITH_PRIMARY = (1, 3, 6, 7)  # single PSR, SSR + PSR, Mode S all-call / roll-call + PSR


@pytest.fixture(scope="module")
def barcelona(shared_data):
    """(fast records, libasterix records, fast decoder, libasterix decoder): every record."""
    data = recording(shared_data, BCN).read_bytes()
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    return fast.decode(data, BCN_NOON).cat048, slow.decode(data, BCN_NOON).cat048, fast, slow


def test_barcelona_fast_path_equals_libasterix_on_every_record(barcelona) -> None:
    a, b, fast, slow = barcelona
    assert len(a) == len(b) == 44085
    assert_same_records(a, b)  # every column, the four I048/130 ones included
    for name in AMPLITUDES + RUNLENGTHS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert not fast.rejects and not slow.rejects


def test_barcelona_plot_characteristics_counts_and_ranges(barcelona) -> None:
    plots = barcelona[0]
    pam, sam = np.isfinite(plots.primary_amplitude_dbm), np.isfinite(plots.ssr_amplitude_dbm)
    assert pam.sum() == 28302  # I048/130 PAM
    assert sam.sum() == 43913  # I048/130 SAM: 99.6 % of the records carry I048/130
    assert np.array_equal(np.isfinite(plots.primary_runlength_rad), pam)
    assert np.array_equal(np.isfinite(plots.ssr_runlength_rad), sam)
    # a primary amplitude exactly where TYP says the plot has a primary detection
    assert np.array_equal(pam, np.isin(plots.typ, TYP_WITH_PRIMARY))
    # whole dB; SSR replies at -92..-21 dBm (receiver input); this radar's PAM is referred
    # to its own threshold (20..86); runlengths of about a beamwidth
    for name in AMPLITUDES:
        x = getattr(plots, name)[np.isfinite(getattr(plots, name))]
        assert np.array_equal(x, np.round(x)) and -128 <= x.min() and x.max() <= 127
    ssr, primary = plots.ssr_amplitude_dbm[sam], plots.primary_amplitude_dbm[pam]
    assert -100.0 <= ssr.min() and ssr.max() < 0.0
    assert np.median(ssr) == pytest.approx(-50.0, abs=10.0)
    assert 0.0 < primary.min() and primary.max() < 100.0
    assert np.nanmax(plots.primary_runlength_rad) < 2.0 * DEG
    assert 0.5 * DEG < np.nanmedian(plots.primary_runlength_rad) < 1.0 * DEG
    assert np.nanmax(plots.ssr_runlength_rad) < 5.0 * DEG
    k = np.nanmax(plots.ssr_runlength_rad) / RUNLENGTH_LSB_RAD
    assert k == pytest.approx(round(k), abs=1e-9)


def _plots(rng: np.random.Generator, n: int, present: float) -> Cat048Records:
    def maybe(values: np.ndarray) -> np.ndarray:
        return np.where(rng.random(n) < present, values, np.nan)

    return Cat048Records.from_columns(
        {
            "sac": np.full(n, 7),
            "sic": np.full(n, 9),
            "tod_s": rng.uniform(0, 86399, n),
            "typ": rng.integers(0, 8, n),
            "range_m": rng.uniform(0, 400_000, n),
            "azimuth_rad": rng.uniform(0, 2 * math.pi, n),
            "primary_amplitude_dbm": maybe(rng.integers(-128, 128, n).astype(float)),
            "ssr_amplitude_dbm": maybe(rng.integers(-128, 128, n).astype(float)),
            "primary_runlength_rad": maybe(rng.integers(0, 256, n) * RUNLENGTH_LSB_RAD),
            "ssr_runlength_rad": maybe(rng.integers(0, 256, n) * RUNLENGTH_LSB_RAD),
        },
        n,
    )


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(1, 10), st.floats(0.0, 1.0), st.booleans())
def test_plot_characteristics_survive_encode_decode_exactly(seed, n, present, fast) -> None:
    plots = _plots(np.random.default_rng(seed), n, present)
    decoder = AsterixDecoder(fast=fast)
    out = decoder.decode(b"".join(encode_cat048(plots, records_per_block=3))).cat048
    assert len(out) == n and not decoder.rejects
    for name in AMPLITUDES + RUNLENGTHS:
        a, b = getattr(out, name), getattr(plots, name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=name)


@settings(deadline=None, max_examples=30)
@given(
    st.floats(-1000.0, 1000.0, allow_nan=False),
    st.floats(0.0, 30.0, allow_nan=False),
    st.booleans(),
)
def test_encoder_rounds_and_saturates(amplitude, runlength_deg, fast) -> None:
    """Off-grid values: rounded to the LSB, saturated at the field's ends (never wrapped)."""
    cols = {"sac": [1], "sic": [2], "tod_s": [0.0], "range_m": [1000.0], "azimuth_rad": [0.0]}
    cols |= {"primary_amplitude_dbm": [amplitude], "ssr_amplitude_dbm": [-amplitude]}
    cols |= {"primary_runlength_rad": [runlength_deg * DEG], "ssr_runlength_rad": [0.0]}
    (block,) = encode_cat048(Cat048Records.from_columns(cols, 1))
    out = AsterixDecoder(fast=fast).decode(block).cat048
    assert out.primary_amplitude_dbm[0] == min(max(round(amplitude), -128), 127)
    assert out.ssr_amplitude_dbm[0] == min(max(round(-amplitude), -128), 127)
    expected = min(round(runlength_deg / (360.0 / 2**13)), 255) * RUNLENGTH_LSB_RAD
    assert out.primary_runlength_rad[0] == pytest.approx(expected, abs=1e-12)
    assert out.ssr_runlength_rad[0] == 0.0


def test_item_left_out_without_values_and_subitems_in_spec_order() -> None:
    cols = {"sac": [1, 1], "sic": [2, 2], "range_m": [1000.0, 1000.0], "azimuth_rad": [0, 0]}
    cols |= {"primary_amplitude_dbm": [np.nan, -5.0], "primary_runlength_rad": [np.nan, 0.0]}
    without, with_pam = encode_cat048(Cat048Records.from_columns(cols, 2))
    # record FSPEC: FRN 7 (I048/130) is the bit before FX of the first FSPEC byte
    assert without[3] & 0x02 == 0
    assert with_pam[3] & 0x02
    # I048/130 last here: its FSPEC (PRL = subitem 4, PAM = 5), PRL 0, PAM -5 (two's compl.)
    assert with_pam[-3:] == bytes([0b0001_1000, 0x00, 0xFB])


def _block(record_hex: str) -> bytes:
    body = bytes.fromhex(record_hex)
    return bytes([48]) + (len(body) + 3).to_bytes(2, "big") + body


GOOD = "82" + "0102" + "08" + "f6"  # I048/010 + I048/130 with PAM only (-10 dBm)
MALFORMED_130 = {
    "fx_set": "82" + "0102" + "09" + "0808",  # compound FSPEC with FX: one byte at most
    "truncated": "82" + "0102" + "fe" + "0102",  # 7 subitems announced, 2 bytes there
    "fspec_missing": "82" + "0102",  # the item flagged but absent
}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("bad", sorted(MALFORMED_130))
def test_malformed_130_is_counted_and_spares_the_other_blocks(bad, fast) -> None:
    decoder = AsterixDecoder(fast=fast)
    data = _block(GOOD) + _block(MALFORMED_130[bad]) + _block(GOOD)
    out = decoder.decode(data).cat048
    assert len(out) == 2 and out.block.tolist() == [0, 2]
    assert out.primary_amplitude_dbm.tolist() == [-10.0, -10.0]
    assert np.isnan(out.ssr_amplitude_dbm).all() and np.isnan(out.primary_runlength_rad).all()
    assert decoder.rejects == {"undecodable_block": 1}


def test_empty_130_is_accepted_by_both_paths_without_values() -> None:
    """A compound FSPEC of 0x00 is legal to libasterix: the walk must agree."""
    for fast in (True, False):
        decoder = AsterixDecoder(fast=fast)
        out = decoder.decode(_block("82" + "0102" + "00")).cat048
        assert len(out) == 1 and not decoder.rejects
        assert all(np.isnan(getattr(out, n)[0]) for n in AMPLITUDES + RUNLENGTHS)


@settings(deadline=None, max_examples=60)
@given(st.binary(min_size=0, max_size=10), st.binary(min_size=0, max_size=4))
def test_random_130_bytes_decode_alike_in_both_paths(item, tail) -> None:
    """Random I048/130 contents (and trailing bytes): same records, same rejects."""
    data = _block("82" + "0102" + item.hex() + tail.hex())
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    assert_same_records(fast.decode(data).cat048, slow.decode(data).cat048)
    assert fast.rejects == slow.rejects


def test_compound_subitem_starts() -> None:
    layout = compile_record(Cat_048_1_32.cv_record)
    node = layout.nodes[layout.frn["130"]]
    # FSPEC bits: SRL SRR SAM PRL PAM RPD APD FX; 1011_1000 = SRL, SAM, PRL, PAM
    buf = np.frombuffer(bytes([0b1011_1000, 1, 2, 3, 4, 0b0000_0100, 9]) + bytes(8), np.uint8)
    starts = compound_subitem_starts(node, buf, np.array([0, 5]), np.array([5, 7]))
    assert starts.tolist() == [[1, -1, 2, 3, 4, -1, -1], [-1, -1, -1, -1, -1, 6, -1]]
    empty = compound_subitem_starts(node, buf, np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert empty.shape == (0, 7)
