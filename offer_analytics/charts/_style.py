"""The one visual language of every chart: palette, outcome colours, layout and the empty figure.

Colours come from the Okabe-Ito palette, which stays distinguishable for the common forms of
colour blindness. Outcomes always get the same colour, wherever they appear, so that a reader who
learnt "green = accepted" on one chart can trust it on the next.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import plotly.graph_objects as go
import polars as pl

from offer_analytics.metrics._frame import group_keys

__all__ = [
    "GROUP_COLOURS",
    "GROUP_DASHES",
    "OUTCOME_COLOURS",
    "OUTCOME_ORDER",
    "Group",
    "GroupColours",
    "GroupKey",
    "apply_layout",
    "empty_figure",
    "group_colour",
    "group_colours",
    "group_names",
    "label",
    "rgba",
    "split_groups",
]

#: Outcomes in the order of the outcome Enum; legends and categories follow it.
OUTCOME_ORDER: Final = (
    "accepted",
    "declined",
    "pending",
    "draft",
    "rescinded",
    "superseded",
    "unknown",
)

#: Outcome -> colour (Okabe-Ito; grey for superseded, black so that unknown stands out).
OUTCOME_COLOURS: Final[Mapping[str, str]] = {
    "accepted": "#009E73",
    "declined": "#D55E00",
    "pending": "#56B4E9",
    "draft": "#E69F00",
    "rescinded": "#CC79A7",
    "superseded": "#999999",
    "unknown": "#000000",
}

#: Colours of groups (connectors and other ``by`` keys), in order of the sorted group labels.
GROUP_COLOURS: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)

#: Line dashes that tell groups apart where colour already encodes the outcome.
GROUP_DASHES: Final = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


#: A group's values of the ``by`` columns, in their order; ``()`` is "all offers".
GroupKey: TypeAlias = tuple[object, ...]

#: Group -> colour. Keys are :data:`GroupKey` tuples; with one ``by`` column a bare value works too.
GroupColours: TypeAlias = Mapping[Any, str]

_FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_GRID: Final = "#E5E5E5"


def label(value: object) -> str:
    """Return ``value`` as text that Plotly shows literally.

    Plotly reads a small HTML subset in labels and hover text, so a status such as ``<b>`` would
    change the rendering; escaping makes every user-controlled value display as written.

    Examples
    --------
    >>> label("<script>x</script>")
    '&lt;script&gt;x&lt;/script&gt;'
    >>> label(None)
    '(missing)'
    """
    # quote=False: Plotly decodes &lt; &gt; &amp; but shows &quot; and &#x27; literally.
    return "(missing)" if value is None else html.escape(str(value), quote=False)


def group_names(keys: Sequence[GroupKey]) -> list[str]:
    """Return one display name per group key, the values joined by " · ", all names distinct.

    A missing value shows as "(missing)"; when a real value is spelled the same, the missing one
    becomes "(no value)" instead, and any names that still clash are numbered, so that two
    groups never share a legend entry. The key ``()`` is the single group "all offers".

    Examples
    --------
    >>> group_names([("acme", "accepted"), ("acme", None)])
    ['acme · accepted', 'acme · (missing)']
    >>> group_names([("(missing)",), (None,)])
    ['(missing)', '(no value)']
    >>> group_names([("a · b", "c"), ("a", "b · c")])
    ['a · b · c', 'a · b · c (2)']
    >>> group_names([()])
    ['all offers']
    """

    def render(key: GroupKey, missing: str) -> str:
        if not key:
            return "all offers"
        return " · ".join(missing if value is None else label(value) for value in key)

    names = [render(key, "(missing)") for key in keys]
    clashing = {name for name in names if names.count(name) > 1}
    names = [
        render(key, "(no value)") if name in clashing and None in key else name
        for key, name in zip(keys, names, strict=True)
    ]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def group_colour(index: int) -> str:
    """Return the colour of the ``index``-th group (cycling when there are many).

    Examples
    --------
    >>> group_colour(0), group_colour(len(GROUP_COLOURS))
    ('#0072B2', '#0072B2')
    """
    return GROUP_COLOURS[index % len(GROUP_COLOURS)]


def group_colours(
    frame: pl.DataFrame | pl.LazyFrame, *, by: str | Sequence[str] | None
) -> dict[GroupKey, str]:
    """Give every group of ``frame`` its colour, from all the groups the offers contain.

    A chart only sees the groups its metric returns (the start-date charts only those with
    starts), so a colour taken from a chart's own groups would move between the charts of one
    report. Build this map once from the offers and pass it as ``colours=`` to every chart; the
    order of the map (sorted values, missing values last) also fixes each group's line dash.

    Examples
    --------
    >>> offers = pl.DataFrame({"connector": ["globex", "acme", None, "acme"]})
    >>> group_colours(offers, by="connector")
    {('acme',): '#0072B2', ('globex',): '#E69F00', (None,): '#009E73'}
    >>> group_colours(offers, by=None)
    {(): '#0072B2'}
    """
    keys = group_keys(by)
    if not keys:
        return {(): group_colour(0)}
    found = frame.lazy().select(keys).unique().sort(keys, nulls_last=True).collect()
    return {row: group_colour(index) for index, row in enumerate(found.rows())}


@dataclass(frozen=True, slots=True)
class Group:
    """One group of a metric table, ready to draw: its key, display name, colour, dash and rows."""

    key: GroupKey
    name: str
    colour: str
    dash: str
    rows: pl.DataFrame


def _as_key(value: object) -> GroupKey:
    return value if isinstance(value, tuple) else (value,)


def split_groups(table: pl.DataFrame, by: Sequence[str], *, colours: GroupColours) -> list[Group]:
    """Split a metric table into its groups, each with the colour and dash ``colours`` gives it.

    Groups come in the order of the metric tables (sorted by value, missing values last) and are
    told apart by their values, so a missing value and the text "(missing)" stay two groups.

    A group missing from ``colours`` gets the next colours after those of the map, so it never
    borrows the colour of a group that is in it.

    Examples
    --------
    >>> table = pl.DataFrame({"connector": ["globex"], "n": [3]})
    >>> palette = {("acme",): "#0072B2", ("globex",): "#E69F00"}
    >>> [(g.name, g.colour, g.dash) for g in split_groups(table, ["connector"], colours=palette)]
    [('globex', '#E69F00', 'dash')]
    """
    palette = {_as_key(key): colour for key, colour in colours.items()}
    position = {key: index for index, key in enumerate(palette)}
    if by:
        # Group on the values themselves (a missing value is None, never the text "(missing)"),
        # in the order of the metric tables: sorted by value, missing values last.
        keys = table.select(by).unique().sort(by, nulls_last=True).rows()
        parts = table.partition_by(by, as_dict=True, maintain_order=True)
    else:
        keys, parts = [()], {(): table}
    groups: list[Group] = []
    extra = 0
    for key, name in zip(keys, group_names(keys), strict=True):
        if key not in position:
            position[key] = len(palette) + extra
            extra += 1
        index = position[key]
        groups.append(
            Group(
                key=key,
                name=name,
                colour=palette.get(key, group_colour(index)),
                dash=GROUP_DASHES[index % len(GROUP_DASHES)],
                rows=parts[key],
            )
        )
    return groups


def rgba(colour: str, alpha: float) -> str:
    """Return a ``#RRGGBB`` colour as a CSS ``rgba()`` string with the given opacity.

    Examples
    --------
    >>> rgba("#0072B2", 0.2)
    'rgba(0, 114, 178, 0.2)'
    """
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def apply_layout(
    figure: go.Figure,
    *,
    title: str,
    x_title: str,
    y_title: str,
    height: int = 420,
    legend_title: str | None = None,
) -> go.Figure:
    """Give ``figure`` the shared plain look: title, axis titles, font, grid and legend.

    The legend is one column right of the plot: a horizontal legend under the plot wraps into
    several rows with many groups and then runs into the axis title.

    Examples
    --------
    >>> fig = apply_layout(go.Figure(), title="T", x_title="Days", y_title="Offers")
    >>> fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text
    ('T', 'Days', 'Offers')
    """
    figure.update_layout(
        template="simple_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 17}},
        font={"family": _FONT, "size": 13, "color": "#222222"},
        height=height,
        # Room above the plot for the title and, on subplot charts, the panel titles.
        margin={"l": 70, "r": 30, "t": 60 if not figure.layout.annotations else 90, "b": 60},
        hoverlabel={"font": {"family": _FONT, "size": 13}, "align": "left"},
        legend={
            "orientation": "v",
            "yanchor": "top",
            "y": 1.0,
            "xanchor": "left",
            "x": 1.02,
            "title": {"text": legend_title or ""},
        },
        hovermode="closest",
    )
    axis_style: dict[str, Any] = {"showgrid": True, "gridcolor": _GRID, "zeroline": False}
    figure.update_xaxes(**axis_style)
    figure.update_yaxes(**axis_style)
    # Only the first axes get the titles given here; subplot charts set the others themselves.
    figure.update_layout(xaxis_title_text=x_title, yaxis_title_text=y_title)
    return figure


def empty_figure(*, title: str, x_title: str, y_title: str, message: str = "No data") -> go.Figure:
    """Return a figure that says plainly that there is nothing to plot.

    Examples
    --------
    >>> fig = empty_figure(title="Time to close", x_title="Days", y_title="Offers")
    >>> fig.layout.annotations[0].text, len(fig.data)
    ('No data', 0)
    """
    figure = apply_layout(go.Figure(), title=title, x_title=x_title, y_title=y_title)
    figure.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 18, "color": "#666666"},
    )
    figure.update_xaxes(showticklabels=False, showgrid=False)
    figure.update_yaxes(showticklabels=False, showgrid=False)
    return figure
