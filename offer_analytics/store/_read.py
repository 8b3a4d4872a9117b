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

from offer_analytics.errors import ConfigurationError, SchemaError
from offer_analytics.schema import OFFER_SCHEMA, OPTIONAL_COLUMNS, OUTCOME_DTYPE, empty_offers_frame
from offer_analytics.store._dataset import Dataset

__all__ = ["read_offers", "scan_offers_file"]

_PARTITION = "connector="


def _file_schema(file: Path) -> dict[str, pl.DataType]:
    try:
        return pl.read_parquet_schema(file)
    except (OSError, pl.exceptions.ComputeError) as error:
        raise SchemaError(f"{file} is not a readable Parquet file: {error}") from None


def scan_offers_file(
    file: Path,
    *,
    optional: tuple[str, ...] | None = None,
    schema: dict[str, pl.DataType] | None = None,
) -> pl.LazyFrame:
    """One file as a lazy frame with the offers schema.

    ``connector`` comes from the file, or else from a ``connector=<label>`` parent folder.
    ``optional`` names the optional columns to produce (missing ones as nulls); by default, the
    file's own. ``schema`` is the file's, when the caller has read it already.
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
        allowed = (dtype, pl.String) if name == "outcome" else (dtype,)
        if found not in allowed:
            raise SchemaError(f"{file}: column {name!r} is {found}, not {dtype}.", field=name)
    own = tuple(c for c in OPTIONAL_COLUMNS if c in schema)
    wanted = own if optional is None else optional
    exprs = {name: pl.col(name) for name in OFFER_SCHEMA}
    if from_folder:
        exprs["connector"] = pl.lit(label, pl.String).alias("connector")
    exprs["outcome"] = pl.col("outcome").cast(pl.String).cast(OUTCOME_DTYPE)
    for name in wanted:
        exprs[name] = pl.col(name) if name in schema else pl.lit(None, pl.String).alias(name)
    return pl.scan_parquet(file, glob=False).select(exprs.values())


def read_offers(path: str | Path) -> pl.LazyFrame:
    """Open an offers Parquet file, or a dataset folder written by :func:`sync`, lazily.

    The result has the exact offers schema (``outcome`` as its Enum, instants in UTC, the
    ``connector`` column), whichever profile wrote the files. In a dataset, each connector's
    current table is read; connectors whose optional columns differ get nulls where they lack one.

    Parameters
    ----------
    path
        A ``.parquet`` file, a dataset folder (holding ``offers/``), or its ``offers/`` folder.

    Raises
    ------
    ConfigurationError
        The path does not exist.
    SchemaError
        A file is not Parquet or not an offers file (a column missing or of another type).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     read_offers(tmp).collect().shape  # an empty dataset folder
    (0, 12)
    """
    target = Path(path)
    if target.is_file():
        return scan_offers_file(target)
    if not target.is_dir():
        raise ConfigurationError(f"{target} does not exist: pass a Parquet file or a dataset.")
    root = target.parent if target.name == "offers" and not (target / "offers").is_dir() else target
    files = list(Dataset(root).data_files().values())
    if not files:
        return empty_offers_frame().lazy()
    schemas = {file: _file_schema(file) for file in files}
    optional = tuple(c for c in OPTIONAL_COLUMNS if any(c in s for s in schemas.values()))
    scans = [scan_offers_file(f, optional=optional, schema=s) for f, s in schemas.items()]
    return pl.concat(scans, how="vertical") if len(scans) > 1 else scans[0]
