"""The Wilson score interval for a binomial proportion, as Polars expressions.

Why Wilson: the plain normal ("Wald") interval collapses to a single point when a rate is 0 or 1
and undercovers for small n, which is exactly where recruiting rates live (a team with 7 offers).
The Wilson interval stays inside [0, 1], is never empty, and is what statsmodels computes with
``proportion_confint(method="wilson")``.
"""

from __future__ import annotations

from statistics import NormalDist

import polars as pl

__all__ = ["wilson_interval", "z_value"]


def z_value(confidence: float) -> float:
    """Return the two-sided standard normal quantile for a confidence level.

    Parameters
    ----------
    confidence
        The coverage of the interval, strictly between 0 and 1 (0.95 for a 95% interval).

    Returns
    -------
    float
        ``z`` such that ``P(-z < Z < z) = confidence`` for a standard normal ``Z``.

    Examples
    --------
    >>> f"{z_value(0.95):.12f}"
    '1.959963984540'
    """
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be strictly between 0 and 1, got {confidence!r}"
        raise ValueError(msg)
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(
    successes: pl.Expr | str, n: pl.Expr | str, *, confidence: float = 0.95
) -> tuple[pl.Expr, pl.Expr]:
    """Return expressions for the lower and upper Wilson score bounds of ``successes / n``.

    With ``p = successes / n`` and ``z`` the two-sided normal quantile (1.959963984540054 for
    95%), the bounds are::

        centre    = (p + z² / (2n)) / (1 + z² / n)
        half      = z · sqrt(p (1 − p) / n + z² / (4n²)) / (1 + z² / n)
        lower     = max(0, centre − half)
        upper     = min(1, centre + half)

    Both bounds are null when ``n`` is 0 or null: there is no rate to bound. The clipping only
    removes floating-point dust (the exact bounds always lie in [0, 1]).

    Parameters
    ----------
    successes, n
        Expressions (or column names) for the number of successes and of trials.
    confidence
        Coverage of the interval; 0.95 by default.

    Returns
    -------
    tuple of pl.Expr
        ``(lower, upper)``, Float64, named ``rate_lower`` and ``rate_upper``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"accepted": [8, 0, 0], "n": [10, 5, 0]})
    >>> lower, upper = wilson_interval("accepted", "n")
    >>> df.with_columns(lower.round(4), upper.round(4))
    shape: (3, 4)
    ┌──────────┬─────┬────────────┬────────────┐
    │ accepted ┆ n   ┆ rate_lower ┆ rate_upper │
    │ ---      ┆ --- ┆ ---        ┆ ---        │
    │ i64      ┆ i64 ┆ f64        ┆ f64        │
    ╞══════════╪═════╪════════════╪════════════╡
    │ 8        ┆ 10  ┆ 0.4902     ┆ 0.9433     │
    │ 0        ┆ 5   ┆ 0.0        ┆ 0.4345     │
    │ 0        ┆ 0   ┆ null       ┆ null       │
    └──────────┴─────┴────────────┴────────────┘
    """
    z = z_value(confidence)
    z2 = z * z
    k = (pl.col(successes) if isinstance(successes, str) else successes).cast(pl.Float64)
    m = (pl.col(n) if isinstance(n, str) else n).cast(pl.Float64)
    # n = 0 would divide by zero; map it to null first so both bounds come out null, not NaN.
    m = pl.when(m > 0).then(m)
    p = k / m
    denom = 1.0 + z2 / m
    centre = (p + z2 / (2.0 * m)) / denom
    half = z * (p * (1.0 - p) / m + z2 / (4.0 * m * m)).sqrt() / denom
    lower = (centre - half).clip(0.0, 1.0).alias("rate_lower")
    upper = (centre + half).clip(0.0, 1.0).alias("rate_upper")
    return lower, upper
