"""Offers on disk for the commands: ``-o`` checked before any work, files written by the store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import polars as pl
import typer

import offer_analytics as oa

__all__ = ["Profile", "check_output", "write_offers"]

Profile = Literal["default", "compat"]


def check_output(path: Path) -> Path:
    """``-o PATH``, refused before any work when its folder does not exist."""
    if not path.parent.is_dir():
        msg = f"folder {path.parent} does not exist; create it first."
        raise typer.BadParameter(msg, param_hint="'-o'")
    return path


def write_offers(
    frame: pl.DataFrame, path: Path, *, watermark: datetime | None, profile: Profile = "default"
) -> Path:
    """Write ``frame`` to ``path`` as one Parquet file, the watermark in its metadata."""
    return oa.export_parquet(frame, path, watermark=watermark, profile=profile)
