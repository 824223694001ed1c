"""Chi-square distribution: CDF and quantile in plain Python (no scipy import at start-up).

The tracker needs a handful of chi-square quantiles (gates on 1- to 3-D squared Mahalanobis
distances). ``scipy.stats`` costs about half a second to import, so every command paid for it;
these few numbers are computed here instead, from the regularised lower incomplete gamma
function P(k/2, x/2) (series below a + 1, Lentz continued fraction above; Numerical Recipes
6.2), and inverted by bisection to full double precision.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_MAX_TERMS = 1000


def chi2_cdf(x: float, df: float) -> float:
    """P(X <= x) for X ~ chi-square with ``df`` > 0 degrees of freedom."""
    if not df > 0.0:
        raise ValueError(f"df must be > 0, not {df!r}")
    if x <= 0.0:
        return 0.0
    if math.isinf(x):
        return 1.0
    return _regularised_gammas(0.5 * df, 0.5 * x)[0]


def chi2_quantile(probability: float, df: float) -> float:
    """x with chi2_cdf(x, df) = probability, for probability in [0, 1) (bisection, ~1e-15)."""
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"probability must be in [0, 1), not {probability!r}")
    if probability == 0.0:
        return 0.0
    if not df > 0.0:
        raise ValueError(f"df must be > 0, not {df!r}")
    upper = probability > 0.5  # compare upper tails there: 1 - P loses the digits near 1
    target = 1.0 - probability if upper else probability

    def below(x: float) -> bool:  # is x below the quantile?
        lower_p, upper_q = _regularised_gammas(0.5 * df, 0.5 * x)
        return upper_q > target if upper else lower_p < target

    lo, hi = 0.0, max(1.0, df)
    while below(hi):
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if below(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _regularised_gammas(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), Q(a, x)), each computed directly where it is the accurate one."""
    if x <= 0.0:  # also 0.5 * 5e-324
        return 0.0, 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # series: P = x^a e^-x / Gamma(a + 1) * sum x^n / ((a+1)...(a+n))
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        lower = min(1.0, total * math.exp(log_prefix))
        return lower, 1.0 - lower
    # continued fraction for Q = 1 - P (modified Lentz)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    upper = min(1.0, math.exp(log_prefix) * h)
    return 1.0 - upper, upper
