"""The shared look of the charts: palette, escaping of labels, layout and the empty figure."""

from __future__ import annotations

import polars as pl
import pytest

from offer_analytics.charts._style import (
    GROUP_COLOURS,
    OUTCOME_COLOURS,
    OUTCOME_ORDER,
    apply_layout,
    empty_figure,
    group_colours,
    group_names,
    label,
    split_groups,
)


def test_every_outcome_has_its_own_colour() -> None:
    assert tuple(OUTCOME_COLOURS) == OUTCOME_ORDER
    assert len(set(OUTCOME_COLOURS.values())) == len(OUTCOME_ORDER)


def test_group_colours_are_distinct_and_avoid_outcome_colour_clashes_first() -> None:
    assert len(set(GROUP_COLOURS)) == len(GROUP_COLOURS)
    # The first group is never the colour of "accepted", which the acceptance charts use.
    assert GROUP_COLOURS[0] != OUTCOME_COLOURS["accepted"]


def test_labels_show_markup_literally() -> None:
    assert label("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert label("a & b") == "a &amp; b"


def test_quotes_in_labels_are_not_escaped_twice() -> None:
    # Plotly decodes &lt; &gt; &amp; in labels but shows &quot; and &#x27; as written.
    assert label('the "best" offer') == 'the "best" offer'
    assert label("O'Brien") == "O'Brien"
    assert group_names([('say "hi"', "<b>")]) == ['say "hi" · &lt;b&gt;']


def test_group_names_join_several_keys_and_name_missing_values() -> None:
    assert group_names([("acme", "accepted"), ("acme", None)]) == [
        "acme · accepted",
        "acme · (missing)",
    ]


def test_a_missing_value_and_the_text_missing_stay_two_named_groups() -> None:
    table = pl.DataFrame({"connector": [None, "(missing)", "acme", None], "n": [1, 2, 3, 4]})
    groups = split_groups(table, ["connector"], colours={})
    assert [(g.key, g.name, g.rows["n"].to_list()) for g in groups] == [
        (("(missing)",), "(missing)", [2]),
        (("acme",), "acme", [3]),
        ((None,), "(no value)", [1, 4]),
    ]
    assert len({g.colour for g in groups}) == 3


def test_groups_follow_the_values_order_with_missing_last_not_the_text_order() -> None:
    table = pl.DataFrame({"team": [10, None, 9, 10], "n": [1, 2, 3, 4]})
    assert [g.name for g in split_groups(table, ["team"], colours={})] == ["9", "10", "(missing)"]


def test_layout_is_plain_and_titled() -> None:
    fig = apply_layout(
        empty_figure(title="x", x_title="a", y_title="b"),
        title="T",
        x_title="Days",
        y_title="Offers",
    )
    assert fig.layout.title.text == "T"
    assert fig.layout.xaxis.title.text == "Days"
    assert fig.layout.yaxis.title.text == "Offers"
    assert fig.layout.template.layout.paper_bgcolor in (
        "white",
        "#fff",
        "#ffffff",
        "rgb(255,255,255)",
    )


def test_empty_figure_says_no_data_and_keeps_axis_titles() -> None:
    fig = empty_figure(title="Time to close", x_title="Days", y_title="Offers")
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations] == ["No data"]
    assert fig.layout.xaxis.title.text == "Days"


def test_group_colours_refuse_a_by_the_metrics_refuse() -> None:
    offers = pl.DataFrame({"connector": ["acme"]})
    with pytest.raises(ValueError, match="more than once"):
        group_colours(offers, by=("connector", "connector"))
    with pytest.raises(TypeError, match="column name"):
        group_colours(offers, by=[1])  # type: ignore[list-item]
