"""Latency distributions drawn against percentile, with the tail stretched out.

The x axis is ``-log10(1 - q)``: 50 % sits near 0.3, 99 % at 2, 99.9 % at 3,
so the tail a scheduler is judged by gets as much room as the median.

Example:
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> plot_percentiles(ax, np.arange(1.0, 1001.0), label="demo")
    >>> label_percentile_axis(ax, 1000, "latency, ns (log)", "demo")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['50%', '90%', '99%', '99.9%']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["label_log_axes", "label_percentile_axis", "plot_percentiles"]

_TICKS = ((float(np.log10(2.0)), "50%"), (1.0, "90%"), (2.0, "99%"),
          (3.0, "99.9%"), (4.0, "99.99%"), (5.0, "99.999%"))


def plot_percentiles(ax: Any, samples: npt.NDArray[np.float64], **style: Any) -> None:
    """Draw one distribution's quantiles, up to the deepest one its sample size resolves."""
    x = np.linspace(0.0, np.log10(samples.size), 400)
    ax.plot(x, np.quantile(samples, 1.0 - 10.0 ** (-x), method="inverted_cdf"), **style)


def label_percentile_axis(ax: Any, longest: int, ylabel: str, title: str) -> None:
    """Percentile ticks up to what ``longest`` samples resolve; log latency scale; grid."""
    ticks = [(t, text) for t, text in _TICKS if t <= np.log10(max(longest, 1)) + 1e-9]
    ax.set_xticks([t for t, _ in ticks], [text for _, text in ticks])
    ax.set_yscale("log")
    ax.set_xlabel("percentile")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)


def label_log_axes(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    """Both axes logarithmic (a quantity against size), labelled, with a grid on both."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
