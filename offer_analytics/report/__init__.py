"""The offline HTML report: every metric, chart and data-quality check in one self-contained file.

- :func:`html_report`: writes the file (plotly.js inlined once, no network at view time).

``_html`` writes the file and its headline; ``_sections`` builds each metric's section;
``_template`` holds the page, the cards, tables and styles.
"""

from offer_analytics.report._html import html_report

__all__ = ["html_report"]
