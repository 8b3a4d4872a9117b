"""Plotly figures of the offer metrics; every function returns a ``plotly.graph_objects.Figure``.

Each chart takes the offers frame (DataFrame or LazyFrame) and the options of the metric it
shows, calls that metric from :mod:`offer_analytics.metrics` and draws its output, so a chart and
a table of the same metric always agree. Nothing is shown: call ``fig.show()`` yourself, or use
:func:`offer_analytics.html_report` for a self-contained file. Colours, fonts and the empty-data
figure live in :mod:`offer_analytics.charts._style`.
"""

from __future__ import annotations

from offer_analytics.charts._acceptance import acceptance_figure, status_figure
from offer_analytics.charts._ranked import ranked_rates_figure
from offer_analytics.charts._starts import lead_times_figure, start_dates_figure
from offer_analytics.charts._style import OUTCOME_COLOURS, GroupColours, group_colours
from offer_analytics.charts._survival import incidence_figure, survival_figure

__all__ = [
    "OUTCOME_COLOURS",
    "GroupColours",
    "acceptance_figure",
    "group_colours",
    "incidence_figure",
    "lead_times_figure",
    "ranked_rates_figure",
    "start_dates_figure",
    "status_figure",
    "survival_figure",
]
