"""The dataset folder on disk: where each file lives, atomic replacement, per-connector locks.

::

    <root>/offers/connector=<label>/part-0.parquet     the connector's current offers
    <root>/history/connector=<label>/<n>.parquet        rows changed by the connector's sync n
    <root>/related/<resource>/connector=<label>/part-0.parquet
                                                        enrich=True: the jobs, departments, ...
    <root>/_state/<label>.json                          watermark, counts, the last report
    <root>/_state/<label>.lock                          held while a sync of <label> runs

Every file is replaced whole and atomically: written to a hidden temporary file in the same folder,
fsynced, renamed over the old one, and the folder fsynced, so that a reader (or a crash) sees the
old file or the new one, never a mix. Temporary names start with ``.`` and end with ``.tmp``: every
Hive-style reader skips them, and the next sync of the connector deletes any left by a crash.

Only this module touches the file system, through :mod:`pathlib` and :mod:`os`; a store on object
storage (where a single PUT is already atomic) would replace this class and nothing else.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import filelock

__all__ = ["CHECKPOINT", "Dataset", "checkpoint"]

_TMP_SUFFIX: Final = ".tmp"


def _no_checkpoint(point: str, label: str) -> None:
    return None


#: Called at each step of a commit, ``(point, label)``. It does nothing; the crash tests replace
#: it in a child process to stop a sync at an exact point before killing it.
CHECKPOINT: Callable[[str, str], None] = _no_checkpoint


def checkpoint(point: str, label: str) -> None:
    """Report reaching ``point`` of the commit of ``label`` to :data:`CHECKPOINT`."""
    CHECKPOINT(point, label)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_of(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file of :meth:`Dataset.replace` for ``target``."""
    token = name.removeprefix(f".{target}.").removesuffix(_TMP_SUFFIX)
    return (
        len(name) == len(target) + len(token) + 2 + len(_TMP_SUFFIX)
        and len(token) == 12
        and all(c in "0123456789abcdef" for c in token)
    )


class Dataset:
    """A dataset folder: paths of its files, atomic writes, locks.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = Dataset(Path(tmp))
    ...     ds.replace(ds.state_file("acme"), lambda f: f.write(b"{}"), label="acme", kind="state")
    ...     ds.state_file("acme").read_bytes(), ds.data_file("acme").relative_to(tmp).as_posix()
    (b'{}', 'offers/connector=acme/part-0.parquet')
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r})"

    # --- where things are --------------------------------------------------------------------

    @property
    def offers_folder(self) -> Path:
        """The folder of the partitions, one ``connector=<label>`` subfolder each."""
        return self.root / "offers"

    def data_file(self, label: str) -> Path:
        """The current offers of ``label``."""
        return self.offers_folder / f"connector={label}" / "part-0.parquet"

    def related_file(self, resource: str, label: str) -> Path:
        """The stored objects of a related ``resource`` (``"jobs"``, ...) of ``label``."""
        return self.root / "related" / resource / f"connector={label}" / "part-0.parquet"

    def history_file(self, label: str, generation: int) -> Path:
        """The rows changed by sync number ``generation`` of ``label``."""
        return self.root / "history" / f"connector={label}" / f"{generation:09d}.parquet"

    def state_file(self, label: str) -> Path:
        """The sync state of ``label``."""
        return self.root / "_state" / f"{label}.json"

    def history_generations(self, label: str) -> list[int]:
        """The numbers of ``label``'s history files, in order."""
        folder = self.history_file(label, 0).parent
        if not folder.is_dir():
            return []
        found = (p.stem for p in folder.glob("*.parquet"))
        return sorted(int(stem) for stem in found if stem.isdigit())

    def data_files(self) -> dict[str, Path]:
        """Label -> data file, for every connector with one, in label order."""
        if not self.offers_folder.is_dir():
            return {}
        found = {
            folder.name.removeprefix("connector="): folder / "part-0.parquet"
            for folder in self.offers_folder.glob("connector=*")
            if (folder / "part-0.parquet").is_file()
        }
        return dict(sorted(found.items()))

    # --- writing --------------------------------------------------------------------------

    def replace(
        self, target: Path, write: Callable[[BinaryIO], object], *, label: str, kind: str
    ) -> None:
        """Replace ``target`` atomically with what ``write`` writes to a binary file.

        ``kind`` (``"data"``, ``"history"``, ``"state"``) names the checkpoint before the rename.
        """
        self._make_folder(target.parent)
        temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}{_TMP_SUFFIX}"
        try:
            with temporary.open("xb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            checkpoint(f"{kind}:before-rename", label)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_folder(target.parent)  # the rename itself is durable only once its folder is

    def remove_history(self, label: str, generations: list[int]) -> None:
        """Delete these history files of ``label`` (those of attempts that never committed)."""
        for generation in generations:
            self.history_file(label, generation).unlink(missing_ok=True)
        if generations:
            _fsync_folder(self.history_file(label, 0).parent)

    def _make_folder(self, folder: Path) -> None:
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
            _fsync_folder(new.parent)  # so that a crash cannot lose the folder under a file

    def remove_related(self, label: str, resources: tuple[str, ...]) -> None:
        """Delete ``label``'s related tables (a full sync without enrichment drops them)."""
        for resource in resources:
            file = self.related_file(resource, label)
            if file.is_file():
                file.unlink()
                _fsync_folder(file.parent)

    def remove_leftovers(self, label: str, *, resources: tuple[str, ...] = ()) -> int:
        """Delete temporary files a crashed sync of ``label`` left; return how many."""
        folders = (
            self.data_file(label).parent,
            self.history_file(label, 0).parent,
            self.state_file(label).parent,
            *(self.related_file(r, label).parent for r in resources),
        )
        removed = 0
        for folder in folders:
            if not folder.is_dir():
                continue
            for leftover in folder.glob(f".*{_TMP_SUFFIX}"):
                if folder.name == "_state" and not _temporary_of(leftover.name, f"{label}.json"):
                    continue  # another connector's: its own sync cleans it up
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    # --- locking --------------------------------------------------------------------------

    def lock(self, label: str) -> filelock.BaseFileLock:
        """The (not yet acquired) lock that keeps two syncs of ``label`` apart.

        An OS-level lock (``flock``): a process that dies, even by SIGKILL, releases it.
        ``timeout=0``: a sync never waits for another, it says so at once.
        """
        path = self.state_file(label).with_suffix(".lock")
        self._make_folder(path.parent)
        return filelock.FileLock(path, timeout=0)
