"""What enrichment adds to a load: extra requests and seconds, side by side with offers alone.

Run: ``uv run python bench/bench_enrich.py [offers] [repeats]`` (default 100,000 offers over
3 connectors, 3 repeats). Three contenders load the same sandbox listing, round-robin within each
repeat: offers alone; offers with ``expand="application[id,job]"`` (what ``enrich=True`` adds to
the offers pages, to split its cost); and ``enrich=True``. The budget is lifted (the sandbox's
and the client's) so the seconds are the work itself; the requests then give the time at
Bindbee's real budget (200 per minute per connector), which is what bounds a real load: the
busiest connector's requests / 200 minutes. The sandbox runs in the same process, so CPU
seconds include its side.
"""

from __future__ import annotations

import sys
from collections import Counter
from functools import partial

from bench._harness import machine, markdown_header, markdown_row, race
from offer_analytics import load_offers
from offer_analytics.sandbox import SandboxServer

_BUDGET = (10**9, 60.0)


def main(offers: int = 100_000, repeats: int = 3) -> None:
    print(machine("httpx", "polars"))
    requests: dict[str, Counter[str]] = {}
    with SandboxServer(n_offers=offers, connectors=3, seed=0, rate_limit=_BUDGET[0]) as server:

        def load(name: str) -> None:
            server.clear_request_log()
            frame, report = load_offers(
                connectors=server.connector_tokens,
                api_key=server.api_key,
                base_url=server.base_url,
                rate_limit=_BUDGET,
                enrich=name == "enrich",
                expand="application[id,job]" if name == "expand" else (),
            )
            assert frame.height == offers
            assert report.rate_limited == 0
            requests[name] = Counter(r.connector or "" for r in server.request_log)

        names = ("offers", "expand", "enrich")
        timings = race({name: partial(load, name) for name in names}, repeats)
    print(f"{offers:,} offers over 3 connectors, median of {repeats} runs, budget lifted")
    print(markdown_header("load", "requests", "wall s (CPU s)", "minutes at 200/min"))
    for name, timing in timings.items():
        sent = requests[name]
        bound = max(sent.values()) / 200
        label = {
            "offers": "offers alone",
            "expand": "offers, applications expanded",
            "enrich": "offers + enrich",
        }[name]
        cells = (sum(sent.values()), f"{timing.wall:.2f} ({timing.cpu:.2f})", f"{bound:.2f}")
        print(markdown_row(label, *cells))
    extra = sum(requests["enrich"].values()) - sum(requests["offers"].values())
    ratio = timings["enrich"].wall / timings["offers"].wall
    print(f"enrichment: +{extra} requests, {ratio:.2f}x the wall time of the offers load")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
