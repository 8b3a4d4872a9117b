"""API page bytes -> the typed offers frame.

- :func:`decode_pages`: raw bodies of the offers endpoints -> the frame and its
  :class:`DecodeStats` (unparseable timestamps per column).
- :func:`offers_to_frame`: offer dicts shaped as the API sends them -> the same frame.

The stages, one private module each: ``_pages`` (page bodies -> one Arrow table of strings),
``_json_fields`` (expanded relations and JSON objects), ``_timestamps`` (every ISO-8601 shape ->
UTC instants), ``_columns`` (typing every column in schema order), ``_page_head`` (a page's cursor
and size without decoding its offers).
"""

from offer_analytics.decode._columns import DecodeStats
from offer_analytics.decode._frame import decode_pages, offers_to_frame

__all__ = ["DecodeStats", "decode_pages", "offers_to_frame"]
