"""Writing output folders so that nothing is ever lost.

- Every file is written into a staging folder inside the output folder and
  moved into place (:func:`os.replace`, atomic on one file system) only when
  all files are complete. An error or Ctrl-C while writing leaves the previous
  outputs untouched; Ctrl-C during the short final moves is held back until
  they are done.
- A run refuses to write a file over one of its own inputs.
- Each output folder carries ``manifest.json``: the files with their SHA-256,
  the config and input hashes, the package version and the time. The next run
  reads it to say what it replaces, and removes files the previous run wrote
  but this one does not (unless a person has changed them since).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import OutputError

__all__ = ["MANIFEST", "Manifest", "file_sha256", "read_manifest", "staged_outputs"]

MANIFEST = "manifest.json"


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What an output folder holds and where it came from.

    Attributes
    ----------
    files : dict
        Relative file name → SHA-256.
    created : str
        ISO time (UTC) of the run.
    version : str
        needsmodel version.
    config : str
        Config file path.
    inputs : dict
        Input file path → SHA-256.
    """

    files: dict[str, str]
    created: str
    version: str
    config: str
    inputs: dict[str, str]

    def describe(self, inputs: Mapping[str, str]) -> str:
        """One line on what a new run with ``inputs`` replaces."""
        changed = [Path(p).name for p, h in inputs.items() if self.inputs.get(p) not in (None, h)]
        new = [Path(p).name for p in inputs if p not in self.inputs]
        parts = [f"replacing the outputs of the run at {self.created}"]
        if changed:
            parts.append(f"inputs changed since: {', '.join(changed)}")
        elif not new:
            parts.append("same inputs")
        if new:
            parts.append(f"new inputs: {', '.join(new)}")
        return "; ".join(parts)


def read_manifest(directory: Path | str) -> Manifest | None:
    """The manifest of an output folder, or None if there is none (or it is unreadable)."""
    path = Path(directory) / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(
            files=dict(raw["files"]),
            created=str(raw["created"]),
            version=str(raw["version"]),
            config=str(raw.get("config", "")),
            inputs=dict(raw.get("inputs", {})),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def _hold_interrupts() -> Iterator[None]:
    """Delay Ctrl-C (SIGINT) until the block is done (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


@contextmanager
def staged_outputs(
    directory: Path,
    names: tuple[str, ...],
    inputs: set[Path],
    *,
    manifest: Mapping[str, Any] | None = None,
) -> Iterator[Path]:
    """Stage files in a temporary folder and move them into ``directory`` at the end.

    Parameters
    ----------
    directory : Path
        The output folder (created if needed).
    names : tuple of str
        Relative paths of the files the block writes into the staging folder.
    inputs : set of Path
        Resolved input files, which must not be overwritten.
    manifest : mapping, optional
        ``config``, ``inputs`` and ``version`` for ``manifest.json``; when
        given, a manifest is written and files of the previous manifest that
        this run does not write are removed if unchanged.

    Yields
    ------
    Path
        The staging folder.

    Raises
    ------
    OutputError
        If a destination is one of the ``inputs`` or the folder cannot be made.
    """
    directory = Path(directory)
    targets = [*names, *([MANIFEST] if manifest is not None else [])]
    clash = [n for n in targets if (directory / n).resolve() in inputs]
    if clash:
        raise OutputError(
            f"writing {clash[0]} into {directory} would overwrite an input file; "
            "choose another output folder"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create output folder {directory}: {e.strerror}") from e
    previous = read_manifest(directory) if manifest is not None else None
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        for n in names:
            (stage / n).parent.mkdir(parents=True, exist_ok=True)
        yield stage
        written = [n for n in names if (stage / n).exists()]
        if manifest is not None:
            record = {
                "tool": "needsmodel",
                "version": manifest.get("version", ""),
                "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
                "config": manifest.get("config", ""),
                "inputs": dict(manifest.get("inputs", {})),
                "files": {n: file_sha256(stage / n) for n in written},
            }
            (stage / MANIFEST).write_text(
                json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            written.append(MANIFEST)
        with _hold_interrupts():
            for n in written:
                (directory / n).parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage / n, directory / n)
            if previous is not None:
                for n, digest in previous.files.items():
                    old = directory / n
                    if n not in written and old.is_file() and file_sha256(old) == digest:
                        old.unlink()
    finally:
        shutil.rmtree(stage, ignore_errors=True)
