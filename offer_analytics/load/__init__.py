"""Loading offers: plan -> concurrent fetch -> decode -> :class:`LoadReport`.

- :func:`fetch_offers` (async) and :func:`load_offers` (blocking, safe inside Jupyter): a whole
  listing or a set of ids, from one connector or many, into one frame and its report.
- :class:`LoadResult`, :class:`LoadReport`: what every load returns.
- :class:`ProgressUpdate`: what a ``progress=`` callback receives; :class:`RichProgress`, a
  progress bar that is such a callback (what ``progress=True`` draws).
- :data:`WATERMARK_OVERLAP`: how far before a load's start its ``report.watermark`` lies;
  :data:`ENRICH_EXPAND`: what enrichment asks the offers pages to expand.
- :func:`fetch_related` (:class:`RelatedLoad`): the applications, jobs, departments, offices
  and users a set of offers needs, on a client's budgets (what ``enrich=True`` runs; a store
  calls it for the offers it adds).

The parts, one private module each: ``_entry`` (the two entry points), ``_arguments`` (arguments
checked before any request), ``_job`` (listing pages and id batches of one connector),
``_id_batches`` (ids under the URL-length bound), ``_related`` (the related objects, stage by
stage), ``_sink`` (pages decoded in a worker thread while
the next are fetched), ``_load_report``, ``_progress`` (the callback and the rich bar),
``_blocking`` (running a coroutine from sync code, in a thread when a loop already runs).
"""

from offer_analytics.load._entry import WATERMARK_OVERLAP, fetch_offers, load_offers
from offer_analytics.load._load_report import LoadReport, LoadResult
from offer_analytics.load._plan import ENRICH_EXPAND
from offer_analytics.load._progress import ProgressUpdate, RichProgress
from offer_analytics.load._related import RelatedLoad, fetch_related

__all__ = [
    "ENRICH_EXPAND",
    "WATERMARK_OVERLAP",
    "LoadReport",
    "LoadResult",
    "ProgressUpdate",
    "RelatedLoad",
    "RichProgress",
    "fetch_offers",
    "fetch_related",
    "load_offers",
]
