"""Reading offers back: one Parquet file or a whole dataset folder, as one lazy offers frame.

The files of a dataset hold no ``connector`` column (it is the Hive partition, in the folder
name), may differ in their optional columns (a connector synced with ``expand``, another
without) and may come from either profile (``outcome`` as dictionary or plain strings). Each file
is scanned on its own and brought to the exact offers schema, so that the result is one frame a
metric can use at once, whatever mix the folder holds.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from offer_analytics.enrich import ENRICHED_SCHEMA
from offer_analytics.errors import ConfigurationError, SchemaError
from offer_analytics.schema import OFFER_SCHEMA, OPTIONAL_COLUMNS, OUTCOME_DTYPE, empty_offers_frame

__all__ = ["read_offers", "scan_offers_file"]

_PARTITION = "connector="
_PART = "part-0.parquet"


def _file_schema(file: Path) -> dict[str, pl.DataType]:
    try:
        return pl.read_parquet_schema(file)
    except (OSError, pl.exceptions.ComputeError) as error:
        raise SchemaError(f"{file} is not a readable Parquet file: {error}") from None


def _has_enrichment(file: Path, schema: dict[str, pl.DataType]) -> bool:
    """Whether the file holds the enrichment columns (all of them, of their exact types)."""
    found = [name for name in ENRICHED_SCHEMA if name in schema]
    if not found:
        return False
    for name, dtype in ENRICHED_SCHEMA.items():
        if schema.get(name) != dtype:
            raise SchemaError(
                f"{file}: enrichment column {name!r} is {schema.get(name)}, not {dtype}.",
                field=name,
            )
    return True


def scan_offers_file(
    file: Path,
    *,
    optional: tuple[str, ...] | None = None,
    schema: dict[str, pl.DataType] | None = None,
    enriched: bool | None = None,
) -> pl.LazyFrame:
    """One file as a lazy frame with the offers schema.

    ``connector`` comes from the file, or else from a ``connector=<label>`` parent folder.
    ``optional`` names the optional columns to produce (missing ones as nulls); by default, the
    file's own. ``enriched``: whether to produce the enrichment columns (nulls for a file
    without them); by default, when the file has them. ``schema`` is the file's, when the
    caller has read it already.
    """
    if schema is None:
        schema = _file_schema(file)
    label = file.parent.name.removeprefix(_PARTITION)
    from_folder = "connector" not in schema and file.parent.name.startswith(_PARTITION)
    for name, dtype in OFFER_SCHEMA.items():
        if name == "connector" and from_folder:
            continue
        found = schema.get(name)
        if found is None:
            raise SchemaError(f"{file} has no {name!r} column: it is not an offers file.")
        if name == "outcome" and isinstance(found, pl.String | pl.Enum | pl.Categorical):
            continue  # other categories (another version, another writer): cast through String
        if found != dtype:
            raise SchemaError(f"{file}: column {name!r} is {found}, not {dtype}.", field=name)
    own = tuple(c for c in OPTIONAL_COLUMNS if c in schema)
    wanted = own if optional is None else optional
    exprs = {name: pl.col(name) for name in OFFER_SCHEMA}
    if from_folder:
        exprs["connector"] = pl.lit(label, pl.String).alias("connector")
    exprs["outcome"] = pl.col("outcome").cast(pl.String).cast(OUTCOME_DTYPE)
    for name in wanted:
        exprs[name] = pl.col(name) if name in schema else pl.lit(None, pl.String).alias(name)
    has = _has_enrichment(file, schema)
    if has if enriched is None else enriched:
        for name, dtype in ENRICHED_SCHEMA.items():
            exprs[name] = pl.col(name) if has else pl.lit(None, dtype).alias(name)
    return pl.scan_parquet(file, glob=False).select(exprs.values())


def read_offers(path: str | Path) -> pl.LazyFrame:
    """Open an offers Parquet file, or a dataset folder written by :func:`sync`, lazily.

    The result has the exact offers schema (``outcome`` as its Enum, instants in UTC, the
    ``connector`` column), whichever profile wrote the files. In a dataset, each connector's
    current table is read; connectors whose optional columns differ get nulls where they lack one.
    A dataset synced with ``enrich=True`` (or a file of an enriched frame) also gives the
    enrichment columns (``job``, ``department``, ... with the types of ``ENRICHED_SCHEMA``),
    after the optional ones.

    Parameters
    ----------
    path
        A ``.parquet`` file, a dataset folder (holding ``offers/``), its ``offers/`` folder, or
        one connector's ``offers/connector=<label>`` folder.

    Raises
    ------
    ConfigurationError
        The path does not exist, or is a folder but not one of those (e.g. ``history/``).
    SchemaError
        A file is not Parquet or not an offers file (a column missing or of another type).

    Examples
    --------
    >>> import tempfile
    >>> from offer_analytics.errors import ConfigurationError
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     try:
    ...         read_offers(tmp)  # an empty folder is no dataset
    ...     except ConfigurationError as error:
    ...         print(str(error).removeprefix(tmp))
     is not a dataset: it holds neither offers/ nor ...
    """
    target = Path(path)
    if target.is_file():
        return scan_offers_file(target)
    if not target.is_dir():
        raise ConfigurationError(f"{target} does not exist: pass a Parquet file or a dataset.")
    if target.name.startswith(_PARTITION) and (target / _PART).is_file():
        return scan_offers_file(target / _PART)  # one connector's partition
    files = _partition_files(target / "offers")
    if not files and not _is_dataset_root(target):
        files = _partition_files(target)  # the offers/ folder itself
        if not files:
            raise ConfigurationError(
                f"{target} is not a dataset: it holds neither offers/ nor connector=<label>/ "
                "folders with a part-0.parquet. Pass the folder sync() wrote, its offers/ "
                "folder, or one offers/connector=<label> folder."
            )
    if not files:
        return empty_offers_frame().lazy()
    schemas = {file: _file_schema(file) for file in files}
    optional = tuple(c for c in OPTIONAL_COLUMNS if any(c in s for s in schemas.values()))
    enriched = any(_has_enrichment(f, s) for f, s in schemas.items())
    scans = [
        scan_offers_file(f, optional=optional, schema=s, enriched=enriched)
        for f, s in schemas.items()
    ]
    return pl.concat(scans, how="vertical") if len(scans) > 1 else scans[0]


def _is_dataset_root(folder: Path) -> bool:
    """A folder sync() has written into (its offers/ may still be missing: nothing committed)."""
    return (folder / "offers").is_dir() or (folder / "_state").is_dir()


def _partition_files(folder: Path) -> list[Path]:
    """The current file of each ``connector=<label>`` partition in ``folder``, by label."""
    if not folder.is_dir():
        return []
    found = (part / _PART for part in folder.glob(f"{_PARTITION}*"))
    return sorted(file for file in found if file.is_file())
