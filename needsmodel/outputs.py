"""Output folders that only ever touch their own files.

The rules, in the order a write applies them:

1. **Where.** The root, the home folder, system folders, the config's own
   folder, the folders that hold the input files (and every folder above
   them) are refused as output folders; a file is never written over an input.
2. **One writer.** A lock file (``.needsmodel.lock``, an advisory
   :func:`fcntl.flock` lock the system drops when the process dies) keeps two
   runs from writing into one folder at once; the second gets a clear error.
3. **Whose files.** ``manifest.json`` lists the files the last run wrote with
   their SHA-256 and the command that wrote them. A file with an output's name
   that no manifest lists, or that was changed since it was written, is not
   overwritten: the run stops and names it, unless ``force`` (``--force``,
   ``[output] overwrite = true``). The manifest is trusted only when signed
   by this installation (an HMAC with a key in ``~/.needsmodel``, made on
   first use), and only for plain names inside the folder (no ``..``, no
   absolute paths, no symbolic links followed): a hand-made manifest or
   journal never gets a file deleted. A folder written by another command
   (``compare`` into a ``run`` folder) is refused.
4. **All or nothing.** Files are written into a staging folder inside the
   output folder. When all are complete, a journal naming every move is
   written (atomically) and the files are moved into place with
   :func:`os.replace`, ``manifest.json`` last; Ctrl-C and SIGTERM are held
   until the moves are done. A run killed during the moves (SIGKILL, power)
   leaves the journal, and the next command on the folder completes the moves
   before anything else (:func:`recover`), so the folder always ends as the
   complete old set or the complete new set that ``manifest.json`` lists.
   Staging folders of killed runs are removed by the next run.
5. **Stale files.** Files that the previous manifest lists, that this run does
   not write, and that nobody changed since, are removed; nothing else is.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

from .errors import OutputError

__all__ = [
    "JOURNAL",
    "KEY_ENV",
    "LOCK",
    "MANIFEST",
    "Manifest",
    "RunInterrupted",
    "check_output_dir",
    "file_sha256",
    "folder_lock",
    "read_manifest",
    "recover",
    "staged_outputs",
]

MANIFEST = "manifest.json"
LOCK = ".needsmodel.lock"
JOURNAL = ".needsmodel-journal.json"
_STAGING = ".staging-"

#: Folders never used as output folders (the folder itself).
_SYSTEM_FOLDERS = frozenset(
    Path(p)
    for p in (
        "/",
        "/home",
        "/root",
        "/tmp",
        "/var",
        "/opt",
        "/srv",
        "/mnt",
        "/media",
        "/run",
        "/usr/local",
    )
)
#: Folders never written into, at any depth.
_SYSTEM_TREES = tuple(
    Path(p)
    for p in (
        *("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin"),
        *("/sys", "/usr/bin", "/usr/lib", "/usr/sbin", "/usr/share", "/usr/include"),
    )
)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run.

    Attributes
    ----------
    signum : int
        The signal (``SIGINT`` or ``SIGTERM``).
    committed : bool
        True when the signal arrived during the final moves, which were then
        completed: the folder holds the new outputs.
    """

    def __init__(self, signum: int, committed: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.committed = committed


#: The key that signs manifests and journals (created on first use, readable only by the user):
#: a folder's record is trusted only when this installation wrote it, so a hand-made
#: manifest or journal can never make a run delete or overwrite someone's file.
KEY_ENV = "NEEDSMODEL_KEY_FILE"


def _key_path() -> Path:
    env = os.environ.get(KEY_ENV)
    return Path(env) if env else Path.home() / ".needsmodel" / "outputs.key"


def _key() -> bytes | None:
    """The signing key, created on first use; None when it cannot be read or made."""
    path = _key_path()
    try:
        data = path.read_bytes()
        return data if len(data) >= 32 else None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    except FileExistsError:
        pass  # made by a run at the same moment
    except OSError:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if len(data) >= 32 else None


def _signature(record: Mapping[str, Any]) -> str | None:
    """HMAC-SHA256 of a record (without its own ``signature``), or None without a key."""
    key = _key()
    if key is None:
        return None
    body = {k: v for k, v in record.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _signed(record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    sig = _signature(out)
    if sig is not None:
        out["signature"] = sig
    return out


def _trusted(record: Mapping[str, Any]) -> bool:
    """Whether this installation wrote ``record`` (its signature checks)."""
    sig = record.get("signature")
    expected = _signature(record)
    return isinstance(sig, str) and expected is not None and hmac.compare_digest(sig, expected)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plain_name(name: object) -> str | None:
    """``name`` if it is a plain relative path (``a.csv``, ``plots/qq.png``), else None."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("", ".", "..") for part in p.parts):
        return None
    if name != p.as_posix() or len(p.parts) > 3:
        return None
    return name


def _inside(directory: Path, name: str) -> Path | None:
    """``directory / name`` if it stays inside and no part of it below ``directory`` is a link."""
    target = directory / name
    part = directory
    for piece in PurePosixPath(name).parts:
        part = part / piece
        if part.is_symlink():
            return None
    try:
        if not target.resolve().is_relative_to(directory.resolve()):
            return None
    except (OSError, RuntimeError):
        return None
    return target


@dataclass(frozen=True)
class Manifest:
    """What an output folder holds and where it came from.

    Attributes
    ----------
    files : dict
        Relative file name → SHA-256 (plain names inside the folder only).
    created : str
        ISO time (UTC) of the run.
    version : str
        needsmodel version.
    config : str
        Config file path.
    inputs : dict
        Input file path → SHA-256.
    config_sha256 : str
        SHA-256 of the config text the run used (empty for older manifests).
    command : str
        The command that wrote the folder (``run``, ``compare``).
    """

    files: dict[str, str]
    created: str
    version: str
    config: str
    inputs: dict[str, str]
    config_sha256: str = ""
    command: str = ""

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
    """The manifest of an output folder, or None if there is none (or it is not needsmodel's).

    Entries that are not plain file names inside the folder (``..``, absolute
    paths, odd hashes) are dropped: a manifest can never point outside its
    folder.
    """
    path = Path(directory) / MANIFEST
    try:
        if path.is_symlink():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or raw.get("tool") not in (None, "needsmodel"):
            return None
        if not _trusted(raw):  # hand-made, edited, or written by another installation
            return None
        files = {
            str(n): str(h)
            for n, h in dict(raw["files"]).items()
            if _plain_name(n) is not None
            and n != MANIFEST
            and isinstance(h, str)
            and len(h) == 64
            and all(c in "0123456789abcdef" for c in h)
        }
        return Manifest(
            files=files,
            created=str(raw["created"]),
            version=str(raw["version"]),
            config=str(raw.get("config", "")),
            inputs={str(k): str(v) for k, v in dict(raw.get("inputs", {})).items()},
            config_sha256=str(raw.get("config_sha256", "")),
            command=str(raw.get("command", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def check_output_dir(directory: Path | str, protected: Iterable[Path | str] = ()) -> Path:
    """Refuse folders that must never be an output folder; return the resolved folder.

    Parameters
    ----------
    directory : Path or str
        The intended output folder.
    protected : iterable of Path
        Folders that hold the run's config and inputs: neither they nor any
        folder above them may be the output folder.

    Raises
    ------
    OutputError
        Naming the folder and why it is refused.
    """
    text = str(directory)
    if "\x00" in text:
        raise OutputError(f"output folder {text!r} contains a NUL character")
    try:
        folder = Path(directory).expanduser().resolve()
    except (OSError, RuntimeError) as e:
        raise OutputError(f"cannot use output folder {text}: {e}") from e
    if folder == folder.parent or folder in _SYSTEM_FOLDERS:
        raise OutputError(
            f"refusing to write into {folder}: a system folder is no output folder; "
            "choose a folder of its own, e.g. reports/<name>"
        )
    if any(folder == t or folder.is_relative_to(t) for t in _SYSTEM_TREES):
        raise OutputError(f"refusing to write into {folder}: it lies in a system folder")
    if folder == Path.home().resolve():
        raise OutputError(
            f"refusing to write into the home folder {folder}; choose a folder of its own, "
            "e.g. reports/<name>"
        )
    for p in protected:
        held = Path(p).resolve()
        if held == folder or held.is_relative_to(folder):
            raise OutputError(
                f"refusing to write into {folder}: it holds the run's config or input files "
                f"({held}); choose a folder of its own, e.g. {folder / 'reports'}"
            )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder {folder} exists and is not a folder")
    return folder


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Hold ``directory/.needsmodel.lock`` for the duration of the block, then remove it.

    The lock file is removed when the block ends, so no output folder keeps
    it. A run that locked a lock file just removed by another (its inode no
    longer at the path) tries again on the new file, so two runs never both
    hold "the" lock.

    Raises
    ------
    OutputError
        If another process holds the lock (another run is writing there).
    """
    path = directory / LOCK
    for _ in range(5):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise OutputError(f"cannot write to {directory}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                raise OutputError(
                    f"another needsmodel run is writing into {directory} (it holds {LOCK}); "
                    "wait until it has finished, or choose another output folder"
                ) from e
            raise OutputError(f"cannot lock {path}: {e.strerror}") from e
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was removed by the run that held it: lock the new one
    else:  # pragma: no cover - five removals in a row
        raise OutputError(f"cannot lock {path}: it keeps being replaced")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # removed while still locked: a waiting run re-checks the inode
        os.close(fd)  # closing drops the lock


@contextmanager
def _hold_signals() -> Iterator[list[int]]:
    """Delay SIGINT and SIGTERM until the block is done (main thread only)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, handler) for s in held}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _apply(directory: Path, journal: Mapping[str, Any]) -> None:
    """Carry out (or finish) the moves a journal describes. Safe to repeat."""
    stage_name = journal.get("stage")
    if not isinstance(stage_name, str) or not stage_name.startswith(_STAGING) or "/" in stage_name:
        raise OutputError(f"{directory / JOURNAL} is not a journal needsmodel wrote")
    stage = directory / stage_name
    for name in journal.get("move", []):
        if _plain_name(name) is None:
            continue
        src = stage / name
        if not src.is_file() or src.is_symlink():
            continue  # moved already
        dst = _inside(directory, name)
        if dst is None:
            raise OutputError(f"refusing to write {name}: a symbolic link in its path")
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
    for name, digest in dict(journal.get("remove", {})).items():
        if _plain_name(name) is None:
            continue
        old = _inside(directory, name)
        if (
            old is not None
            and old.is_file()
            and not old.is_symlink()
            and file_sha256(old) == digest
        ):
            old.unlink()
    _fsync_dir(directory)


def recover(directory: Path | str) -> str | None:
    """Finish a commit that a killed run left half-done, and remove stale staging folders.

    Call it with the folder's lock held (``staged_outputs`` does).

    Returns
    -------
    str or None
        What was done, or None when there was nothing to do.
    """
    directory = Path(directory)
    said = None
    journal_path = directory / JOURNAL
    if journal_path.is_file() and not journal_path.is_symlink():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None
        if isinstance(journal, dict) and _trusted(journal):
            _apply(directory, journal)
            said = (
                f"completed the outputs of an interrupted run ({len(journal.get('move', []))} "
                "files)"
            )
        journal_path.unlink()
    for p in directory.glob(_STAGING + "*"):
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
    tmp = directory / (JOURNAL + ".tmp")
    if tmp.is_file():
        tmp.unlink()
    return said


def _foreign(
    directory: Path, names: Iterable[str], previous: Manifest | None
) -> tuple[list[str], list[str]]:
    """Names that exist but were not written by needsmodel, and those changed since."""
    foreign, changed = [], []
    for name in names:
        target = directory / name
        if not (target.exists() or target.is_symlink()):
            continue
        if name == MANIFEST:
            if previous is None:
                foreign.append(name)
            continue
        if previous is None or name not in previous.files or not target.is_file():
            foreign.append(name)
        elif target.is_symlink() or file_sha256(target) != previous.files[name]:
            changed.append(name)
    return foreign, changed


#: Errors of the file system (not of the program) while writing: exit 2, "cannot write to …".
_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EFBIG, errno.EIO}
)


def _write_error(directory: Path, e: OSError) -> OutputError | None:
    if e.errno not in _WRITE_ERRNOS:
        return None
    return OutputError(f"cannot write to {directory}: {e.strerror or e}")


#: Errors of a path (not of the program): exit 2 with "cannot write to …".
_PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.EEXIST})


def _short(directory: Path | str) -> str:
    text = str(directory)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]} ({len(text):,} characters)"


@contextmanager
def staged_outputs(
    directory: Path | str,
    names: tuple[str, ...],
    inputs: set[Path],
    *,
    manifest: Mapping[str, Any] | None = None,
    force: bool = False,
    update: bool = False,
    command: str = "run",
) -> Iterator[Path]:
    """Stage files in a temporary folder and move them into ``directory`` at the end.

    See :func:`_staged_outputs` for the parameters; a path that cannot be a
    folder (too long, a loop of symbolic links, a file where a folder belongs)
    ends in an :class:`~needsmodel.errors.OutputError` "cannot write to …".
    """
    try:
        with _staged_outputs(
            directory,
            names,
            inputs,
            manifest=manifest,
            force=force,
            update=update,
            command=command,
        ) as stage:
            yield stage
    except RuntimeError as e:  # Path.resolve on a loop of symbolic links
        if "loop" not in str(e).lower():
            raise
        raise OutputError(f"cannot write to {_short(directory)}: a loop of symbolic links") from e
    except OSError as e:
        if e.errno not in _PATH_ERRNOS:
            raise
        raise OutputError(f"cannot write to {_short(directory)}: {e.strerror}") from e


@contextmanager
def _staged_outputs(
    directory: Path | str,
    names: tuple[str, ...],
    inputs: set[Path],
    *,
    manifest: Mapping[str, Any] | None = None,
    force: bool = False,
    update: bool = False,
    command: str = "run",
) -> Iterator[Path]:
    """Stage files in a temporary folder and move them into ``directory`` at the end.

    Parameters
    ----------
    directory : Path
        The output folder (created if needed).
    names : tuple of str
        Relative paths of the files the block writes into the staging folder.
    inputs : set of Path
        Resolved config and input files: never overwritten, and their folders
        are never the output folder.
    manifest : mapping, optional
        ``config``, ``inputs`` and ``version`` for ``manifest.json``.
    force : bool
        Overwrite files with output names that needsmodel did not write.
    update : bool
        Add or replace ``names`` in the folder's manifest and keep the rest
        (``needsmodel report`` into a run's folder); without it the folder's
        manifest is replaced and stale files of the previous run removed.
    command : str
        The command writing (``run``, ``compare``), kept in the manifest: a
        folder another command wrote is refused, so its outputs are never
        removed as stale.

    Yields
    ------
    Path
        The staging folder.

    Raises
    ------
    OutputError
        If the folder is refused, locked, not writable, or holds files with
        output names that needsmodel did not write.
    RunInterrupted
        When Ctrl-C or SIGTERM arrived during the final moves (which were
        completed first; ``committed`` is True).
    """
    for n in names:
        if _plain_name(n) is None:
            raise OutputError(f"output name {n!r} is not a plain file name")
    targets = [*names, MANIFEST]
    if "\x00" not in str(directory):
        clash = [n for n in targets if (Path(directory) / n).resolve() in inputs]
        if clash:
            raise OutputError(
                f"writing {clash[0]} into {directory} would overwrite an input file; "
                "choose another output folder"
            )
    folder = check_output_dir(directory, {p.parent for p in inputs})
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create output folder {folder}: {e.strerror}") from e
    with folder_lock(folder):
        try:
            recover(folder)
        except OSError as e:
            if (err := _write_error(folder, e)) is None:
                raise
            raise err from e
        previous = read_manifest(folder)
        for n in names:  # a file where a folder of the outputs belongs (plots/)
            for parent in list(PurePosixPath(n).parents)[:-1]:
                if (folder / parent).exists() and not (folder / parent).is_dir():
                    raise OutputError(
                        f"cannot write to {_short(folder)}: '{parent}' is a file where "
                        "needsmodel writes a folder; move it away or choose another folder"
                    )
        linked = [n for n in targets if _inside(folder, n) is None]
        if linked:
            raise OutputError(
                f"refusing to write {linked[0]} into {folder}: a symbolic link in its path "
                "would lead outside the folder"
            )
        if previous is not None and not update and previous.command not in ("", command):
            raise OutputError(
                f"{folder} holds the outputs of 'needsmodel {previous.command}' "
                f"({len(previous.files)} files); 'needsmodel {command}' writes into a folder "
                "of its own: choose another output folder"
            )
        foreign, changed = _foreign(folder, targets, previous)
        if (foreign or changed) and not force:
            parts = []
            if foreign:
                parts.append(f"not written by needsmodel: {', '.join(sorted(foreign))}")
            if changed:
                parts.append(f"changed since needsmodel wrote them: {', '.join(sorted(changed))}")
            raise OutputError(
                f"refusing to overwrite files in {folder} ({'; '.join(parts)}); move them away, "
                "choose another folder, or overwrite with --force ([output] overwrite = true)"
            )
        try:
            stage = Path(tempfile.mkdtemp(prefix=_STAGING, dir=folder))
        except OSError as e:
            if (err := _write_error(folder, e)) is None:
                raise
            raise err from e
        try:
            try:
                for n in names:
                    (stage / n).parent.mkdir(parents=True, exist_ok=True)
                yield stage
                written = [n for n in names if (stage / n).is_file()]
                record = _signed(
                    {
                        **_manifest_record(manifest, stage, written, previous, update),
                        "command": command if not (update and previous) else previous.command,
                    }
                )
                (stage / MANIFEST).write_text(
                    json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
                )
                remove = {}
                if not update and previous is not None:
                    remove = {n: d for n, d in previous.files.items() if n not in written}
                journal = _signed(
                    {"stage": stage.name, "move": [*written, MANIFEST], "remove": remove}
                )
                with _hold_signals() as received:
                    _write_atomic(folder / JOURNAL, json.dumps(journal, ensure_ascii=False))
                    _apply(folder, journal)
                    (folder / JOURNAL).unlink()
            except OSError as e:
                if (err := _write_error(folder, e)) is None:
                    raise
                raise err from e
            if received:
                raise RunInterrupted(received[0], committed=True)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _manifest_record(
    manifest: Mapping[str, Any] | None,
    stage: Path,
    written: list[str],
    previous: Manifest | None,
    update: bool,
) -> dict[str, Any]:
    info = dict(manifest or {})
    files = {n: file_sha256(stage / n) for n in written}
    if update and previous is not None:
        files = {**previous.files, **files}
        info.setdefault("version", previous.version)
        info.setdefault("config", previous.config)
        info.setdefault("inputs", previous.inputs)
        info.setdefault("config_sha256", previous.config_sha256)
    return {
        "tool": "needsmodel",
        "version": info.get("version", ""),
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "config": info.get("config", ""),
        "config_sha256": info.get("config_sha256", ""),
        "inputs": dict(info.get("inputs", {})),
        "files": dict(sorted(files.items())),
    }
