"""Offers frames as Parquet: one file (:func:`export_parquet`) and reading files back.

What every reader must see, and how the bytes get there: instants as ``TIMESTAMP(MICROS,
isAdjustedToUTC=true)`` (DuckDB: ``TIMESTAMP WITH TIME ZONE``; pandas: ``datetime64[us, UTC]``),
``start_date`` as ``DATE``, JSON columns as plain strings. The ``default`` profile keeps
``outcome`` dictionary-encoded with the Polars Enum's categories in the Arrow schema (Polars reads
it back as the Enum; others see strings) and compresses with zstd. The ``compat`` profile is for
picky readers: snappy, ``outcome`` as a plain string, 32-bit-offset strings and no embedded Arrow
schema.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from offer_analytics.enrich import ENRICHED_SCHEMA
from offer_analytics.errors import ConfigurationError, SchemaError
from offer_analytics.schema import OFFER_SCHEMA, OPTIONAL_COLUMNS
from offer_analytics.store._dataset import Dataset
from offer_analytics.store._metadata import file_metadata

__all__ = ["Profile", "check_offers_frame", "export_parquet", "parquet_writer", "to_arrow"]

Profile = Literal["default", "compat"]


def _package_version() -> str:
    from offer_analytics import __version__  # the package root imports this module first

    return __version__


def check_offers_frame(frame: pl.DataFrame, *, what: str = "frame") -> None:
    """Refuse a frame that is not an offers frame (columns, order aside, and exact dtypes).

    Raises
    ------
    SchemaError
        Naming the first column that is missing, unknown or of another dtype.
    """
    for name, dtype in OFFER_SCHEMA.items():
        if name not in frame.schema:
            raise SchemaError(f"The {what} has no {name!r} column: it is not an offers frame.")
        if frame.schema[name] != dtype:
            raise SchemaError(
                f"The {what}'s column {name!r} is {frame.schema[name]}, not {dtype}.", field=name
            )
    for name, dtype in frame.schema.items():
        if name in OFFER_SCHEMA:
            continue
        if name in ENRICHED_SCHEMA:
            if dtype != ENRICHED_SCHEMA[name]:
                raise SchemaError(
                    f"The {what}'s enrichment column {name!r} is {dtype}, not "
                    f"{ENRICHED_SCHEMA[name]}.",
                    field=name,
                )
            continue
        if name not in OPTIONAL_COLUMNS:
            raise SchemaError(
                f"The {what} has a column {name!r} that offers frames do not have; drop it or "
                "write it with Polars' own write_parquet.",
                field=name,
            )
        if dtype != pl.String:
            raise SchemaError(f"The {what}'s column {name!r} must be JSON text (String).")


def _ordered(frame: pl.DataFrame) -> pl.DataFrame:
    names = [c for c in (*OFFER_SCHEMA, *OPTIONAL_COLUMNS, *ENRICHED_SCHEMA) if c in frame.columns]
    return frame.select(names)


def to_arrow(frame: pl.DataFrame, *, profile: Profile) -> pa.Table:
    """The frame as the Arrow table that is written for ``profile``."""
    if profile == "default":
        return frame.to_arrow()
    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Enum)]
    table = frame.with_columns(pl.col(enums).cast(pl.String)).to_arrow(
        compat_level=pl.CompatLevel.oldest()
    )
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f.remove_metadata()
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def parquet_writer(
    table: pa.Table,
    *,
    profile: Profile,
    watermark: datetime | None,
    generation: int | None = None,
    offers: bool = True,
) -> Callable[[BinaryIO], None]:
    """A function writing ``table`` as Parquet (with the package's metadata) to an open file.

    ``offers=False``: the table is not an offers table (a related one), so its columns get no
    offers column descriptions (its ``id`` is no offer id).
    """
    metadata = file_metadata(
        table.column_names if offers else [],
        version=_package_version(),
        watermark=watermark,
        profile=profile,
        generation=generation,
    )

    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})

    def write(handle: BinaryIO) -> None:
        with pq.ParquetWriter(
            handle,
            table.schema,
            compression="zstd" if profile == "default" else "snappy",
            store_schema=profile == "default",
            coerce_timestamps="us",
        ) as writer:
            writer.write_table(table)
            if profile == "compat":
                # Without the embedded Arrow schema, pyarrow writes none of the schema's
                # metadata: the footer gets it directly.
                writer.add_key_value_metadata({k.decode(): v.decode() for k, v in metadata.items()})

    return write


def export_parquet(
    frame: pl.DataFrame | pl.LazyFrame,
    path: str | Path,
    *,
    profile: Profile = "default",
    watermark: datetime | None = None,
) -> Path:
    """Write an offers frame to one Parquet file that BI tools read with the same values.

    The file replaces ``path`` atomically: readers (and a crash) see the old file or the new one.
    Its key-value metadata holds the package version, a description of every column (``SELECT *
    FROM parquet_kv_metadata('offers.parquet')`` in DuckDB) and, when given, the watermark.

    Parameters
    ----------
    frame
        An offers frame, as :func:`~offer_analytics.load_offers` returns it, enriched or not
        (a LazyFrame is collected).
    path
        The file to write; its folder must exist.
    profile
        ``"default"``: zstd, ``outcome`` dictionary-encoded (Polars reads back its Enum).
        ``"compat"``: snappy and plain strings, for readers that stumble on those.
    watermark
        The load's ``report.watermark``, kept in the metadata (naive means UTC).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    SchemaError
        The frame is not an offers frame (a column missing, unknown or of another dtype).
    ConfigurationError
        An unknown profile, or the folder does not exist.

    Examples
    --------
    >>> import tempfile, pyarrow.parquet as pq
    >>> from offer_analytics import offers_to_frame, read_offers
    >>> from offer_analytics.sandbox import generate_offers
    >>> frame = offers_to_frame(generate_offers(5, seed=1)["default"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = export_parquet(frame, f"{tmp}/offers.parquet")
    ...     meta = pq.read_schema(file).metadata
    ...     back = read_offers(file).collect()
    >>> back.equals(frame), b"offer_analytics.columns" in meta
    (True, True)
    """
    if profile not in ("default", "compat"):
        raise ConfigurationError(f"profile must be 'default' or 'compat', not {profile!r}.")
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    check_offers_frame(frame)
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigurationError(f"Cannot write {target}: the folder {target.parent} is missing.")
    write = parquet_writer(
        to_arrow(_ordered(frame), profile=profile), profile=profile, watermark=watermark
    )
    Dataset(target.parent).replace(target, write, label=target.name, kind="export")
    return target
