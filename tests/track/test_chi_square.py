"""The plain-Python chi-square quantile against scipy.stats (the oracle)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from skywarden.track.chi_square import chi2_cdf, chi2_quantile


@settings(max_examples=200, deadline=None)
@given(p=st.floats(1e-9, 1.0 - 1e-9), df=st.floats(0.5, 50.0))
def test_quantile_matches_scipy(p: float, df: float) -> None:
    assert chi2_quantile(p, df) == pytest.approx(float(chi2.ppf(p, df)), rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0.0, 500.0), df=st.floats(0.5, 50.0))
def test_cdf_matches_scipy(x: float, df: float) -> None:
    assert chi2_cdf(x, df) == pytest.approx(float(chi2.cdf(x, df)), rel=1e-10, abs=1e-14)


def test_tracker_gates_are_the_textbook_values() -> None:
    assert chi2_quantile(0.9999, 3) == pytest.approx(21.107513, abs=1e-6)
    assert chi2_quantile(0.999, 3) == pytest.approx(16.266236, abs=1e-6)
    assert chi2_quantile(0.0, 3) == 0.0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="probability"):
        chi2_quantile(1.0, 3)
    with pytest.raises(ValueError, match="df"):
        chi2_cdf(1.0, 0.0)
