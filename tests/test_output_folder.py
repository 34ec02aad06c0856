"""The hostile-output corpus: an output folder only ever touches its own files.

Foreign files with output names, manifests pointing outside the folder, symlinked
sub-folders, system folders and the config's folder as output folders, two runs
at once, and SIGKILL / SIGTERM at every file move of the commit step.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from helpers import write_config

from needsmodel.cli import main
from needsmodel.errors import OutputError
from needsmodel.outputs import (
    JOURNAL,
    LOCK,
    MANIFEST,
    check_output_dir,
    file_sha256,
    folder_lock,
    read_manifest,
    recover,
    staged_outputs,
)

NAMES = ("a.csv", "b.csv", "keys.xlsx", "report.html", "plots/qq.png", "plots/need.png")


def _write(out: Path, tag: str, names: tuple[str, ...] = NAMES, **kwargs) -> None:
    with staged_outputs(out, names, set(), manifest={"version": tag}, **kwargs) as stage:
        for n in names:
            (stage / n).write_text(f"{tag}:{n}")


def _state(out: Path) -> dict[str, str]:
    """Every file in the folder but the lock and staging folders (hidden), with its content."""
    return {
        p.relative_to(out).as_posix(): p.read_text()
        for p in out.rglob("*")
        if p.is_file()
        and p.name != LOCK
        and not p.relative_to(out).parts[0].startswith(".staging-")
    }


def _consistent(out: Path) -> str:
    """'old' or 'new' when the folder is one complete set matching its manifest; else fail."""
    manifest = read_manifest(out)
    assert manifest is not None
    state = _state(out)
    files = {n: c for n, c in state.items() if n != MANIFEST}
    assert set(files) == set(manifest.files), (sorted(files), sorted(manifest.files))
    for n in files:
        assert file_sha256(out / n) == manifest.files[n], n
    tags = {c.split(":")[0] for c in files.values()}
    assert len(tags) == 1, tags
    assert manifest.version == tags.pop()
    return manifest.version


# ----------------------------------------------------------------- manifests


@pytest.mark.parametrize(
    "entry",
    ["../victim.txt", "{abs}", "sub/../../victim.txt", "link.txt", "./../victim.txt"],
)
def test_a_manifest_cannot_make_a_run_delete_anything_outside(tmp_path, entry):
    out = tmp_path / "out"
    _write(out, "v1")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "link.txt").symlink_to(victim)
    name = entry.format(abs=str(victim))
    raw = json.loads((out / MANIFEST).read_text())
    raw["files"][name] = file_sha256(victim)
    (out / MANIFEST).write_text(json.dumps(raw))
    # an edited manifest is not this installation's: its files are foreign, nothing is removed
    assert read_manifest(out) is None
    with pytest.raises(OutputError, match="not written by needsmodel"):
        _write(out, "v2")
    _write(out, "v2", force=True)
    assert victim.read_text() == "precious"
    assert (out / "link.txt").is_symlink()
    assert name not in read_manifest(out).files


def test_a_hand_made_manifest_with_a_users_file_gets_nothing_deleted(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "budget_notes.xlsx"
    mine.write_text("the finance team's own file")
    forged = {
        "tool": "needsmodel",
        "version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "config": "x.toml",
        "inputs": {},
        "files": {"budget_notes.xlsx": file_sha256(mine)},
    }
    (out / MANIFEST).write_text(json.dumps(forged))
    _write(out, "v1", force=True)  # even forced: only its own outputs are overwritten
    assert mine.read_text() == "the finance team's own file"
    # a hand-made journal asking to remove the file is not applied either
    (out / ".needsmodel-journal.json").write_text(
        json.dumps(
            {"stage": ".staging-x", "move": [], "remove": {"budget_notes.xlsx": file_sha256(mine)}}
        )
    )
    _write(out, "v2")
    assert mine.read_text() == "the finance team's own file"
    assert not (out / LOCK).exists()  # the lock is gone with the run


def test_the_cli_never_deletes_files_a_forged_manifest_lists(workdir):
    cfg = write_config(workdir)
    assert main(["run", str(cfg), "-q"]) == 0
    out = workdir / "out"
    raw = json.loads((out / MANIFEST).read_text())
    for target in (workdir / "config.toml", workdir / "school_districts.csv"):
        raw["files"][f"../{target.name}"] = file_sha256(target)
        raw["files"][str(target)] = file_sha256(target)
    (out / MANIFEST).write_text(json.dumps(raw))
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    assert main(["run", str(cfg), "-q"]) == 2  # the edited manifest is not trusted
    assert main(["run", str(cfg), "-q", "--force"]) == 0
    assert {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()} == before


# ----------------------------------------------------------------- foreign files


@pytest.mark.parametrize("foreign", ["report.html", "a.csv", "plots/qq.png", MANIFEST])
def test_a_file_needsmodel_did_not_write_is_not_overwritten(tmp_path, foreign):
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    (out / foreign).write_text("mine")
    with pytest.raises(OutputError, match=rf"not written by needsmodel: {foreign}"):
        _write(out, "v1")
    assert (out / foreign).read_text() == "mine"
    assert _state(out) == {foreign: "mine"}  # nothing else written, no staging folder left
    _write(out, "v1", force=True)
    assert _consistent(out) == "v1"


def test_a_foreign_file_added_after_a_run_is_not_overwritten(tmp_path):
    out = tmp_path / "out"
    _write(out, "v1", names=("a.csv",))
    (out / "b.csv").write_text("mine")
    with pytest.raises(OutputError, match=r"not written by needsmodel: b\.csv"):
        _write(out, "v2", names=("a.csv", "b.csv"))
    assert (out / "b.csv").read_text() == "mine"


def test_an_output_changed_by_hand_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "out"
    _write(out, "v1")
    (out / "a.csv").write_text("corrected by hand")
    with pytest.raises(OutputError, match=r"changed since needsmodel wrote them: a\.csv"):
        _write(out, "v2")
    assert (out / "a.csv").read_text() == "corrected by hand"
    _write(out, "v2", force=True)
    assert _consistent(out) == "v2"


def test_cli_names_the_foreign_files_and_force_overrides(workdir, capsys):
    cfg = write_config(workdir)
    out = workdir / "out"
    (out / "plots").mkdir(parents=True)
    for name in ("report.html", "pools.csv", "plots/qq.png", MANIFEST):
        (out / name).write_text("foreign")
    assert main(["run", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "manifest.json, plots/qq.png, pools.csv, report.html" in err and "--force" in err
    assert all((out / n).read_text() == "foreign" for n in ("report.html", "pools.csv"))
    assert main(["run", str(cfg), "-q", "--force"]) == 0
    assert read_manifest(out) is not None


def test_a_non_empty_folder_keeps_its_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    _write(out, "v1")
    _write(out, "v2", names=("a.csv",))  # stale files of v1 go, notes stay
    assert (out / "notes.txt").read_text() == "keep"
    assert set(_state(out)) == {"a.csv", "notes.txt", MANIFEST}


# ----------------------------------------------------------------- symlinks


def test_a_symlinked_plots_folder_is_not_followed(tmp_path):
    out = tmp_path / "out"
    _write(out, "v1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "qq.png").write_text("v1:plots/qq.png")  # same bytes as the old output
    for p in (out / "plots").iterdir():
        p.unlink()
    (out / "plots").rmdir()
    (out / "plots").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        _write(out, "v2")
    with pytest.raises(OutputError, match="symbolic link"):
        _write(out, "v2", force=True)
    _write(out, "v2", names=("a.csv",), force=True)  # stale plots are not deleted through it
    assert (elsewhere / "qq.png").read_text() == "v1:plots/qq.png"


def test_an_output_folder_that_is_itself_a_symlink_is_fine(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    _write(tmp_path / "link", "v1")
    assert _consistent(real) == "v1"


# ----------------------------------------------------------------- refused folders


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr/lib/x", "/proc/self", "~", "/tmp", "/home"])
def test_system_and_home_folders_are_refused(folder):
    with pytest.raises(OutputError, match="refusing to write into"):
        check_output_dir(Path(folder).expanduser())


@pytest.mark.parametrize("folder", ["/", "{config}", "{parent}", "/etc"])
def test_cli_refuses_such_a_folder_with_exit_2(workdir, capsys, folder):
    cfg = write_config(workdir)
    target = folder.format(config=workdir, parent=workdir.parent)
    before = sorted(p.name for p in Path(target).iterdir())
    assert main(["run", str(cfg), "--out", target, "-q"]) == 2
    assert "refusing to write into" in capsys.readouterr().err
    assert sorted(p.name for p in Path(target).iterdir()) == before


def test_a_nul_byte_in_the_output_folder_is_refused(workdir, capsys):
    cfg = write_config(workdir)
    text = cfg.read_text().replace('dir = "out"', 'dir = "out\\u0000x"')  # a TOML escape
    cfg.write_text(text)
    assert main(["run", str(cfg), "-q"]) == 2
    assert "[output.dir]" in capsys.readouterr().err


# ----------------------------------------------------------------- two runs at once


def test_a_second_run_into_a_locked_folder_gets_a_clear_error(workdir, capsys):
    cfg = write_config(workdir)
    out = workdir / "out"
    out.mkdir()
    with folder_lock(out):
        assert main(["run", str(cfg), "-q"]) == 2
        assert "another needsmodel run is writing into" in capsys.readouterr().err
        with pytest.raises(OutputError, match="another needsmodel run"):
            _write(out, "v1")
    _write(out, "v1")  # released
    assert _consistent(out) == "v1"


def test_the_lock_is_released_when_the_holder_dies(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        with folder_lock(out):
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    assert (out / LOCK).exists()
    _write(out, "v1")
    assert _consistent(out) == "v1"


# ----------------------------------------------------------------- kills during the commit


def _killed_at_move(out: Path, k: int, signum: int, names: tuple[str, ...]) -> int:
    """Write v2 into ``out`` in a child process that gets ``signum`` at the k-th file move."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            import needsmodel.outputs as outputs

            real = os.replace
            calls = [0]

            def replace(src, dst):
                inside = Path(dst).parent == out or Path(dst).parent.parent == out
                if inside and not str(dst).endswith(".tmp") and Path(dst).name != JOURNAL:
                    calls[0] += 1
                    if calls[0] == k:
                        os.kill(os.getpid(), signum)
                real(src, dst)

            outputs.os.replace = replace  # type: ignore[assignment]
            _write(out, "v2", names=names)
        except KeyboardInterrupt as e:
            code = 100 + int(getattr(e, "committed", False))
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_kill_at_every_move_leaves_the_old_or_the_new_complete_set(tmp_path, signum):
    """SIGKILL: the next command completes the moves. SIGTERM: held until they are done."""
    v1 = ("a.csv", "b.csv", "old_only.csv", "plots/qq.png")
    v2 = ("a.csv", "b.csv", "new_only.csv", "plots/qq.png", "plots/new.png")
    moves = len(v2) + 1  # and the manifest
    for k in range(1, moves + 1):
        out = tmp_path / f"k{k}"
        _write(out, "v1", names=v1)
        old = _state(out)
        status = _killed_at_move(out, k, signum, v2)
        if signum == signal.SIGKILL:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            assert (out / JOURNAL).exists()
            recover(out)  # what the next needsmodel command on the folder does first
        else:
            assert os.WEXITSTATUS(status) == 101  # interrupted, after a complete commit
            assert not (out / JOURNAL).exists()
        assert _consistent(out) == "v2", k
        assert "old_only.csv" not in _state(out)
        assert not list(out.glob(".staging-*"))
        assert old  # the old set was complete before


def test_a_kill_before_the_commit_leaves_the_old_set_and_a_staging_folder_the_next_run_removes(
    tmp_path,
):
    out = tmp_path / "out"
    _write(out, "v1")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        with staged_outputs(out, NAMES, set(), manifest={"version": "v2"}) as stage:
            (stage / "a.csv").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    assert list(out.glob(".staging-*"))
    assert _consistent(out) == "v1"
    _write(out, "v3")
    assert _consistent(out) == "v3"
    assert not list(out.glob(".staging-*"))


def test_cli_sigterm_while_writing_cleans_up_and_says_so(workdir):
    import subprocess
    import sys

    cfg = write_config(workdir)
    script = (
        "import sys, time\n"
        "import needsmodel.export as export\n"
        "from needsmodel.cli import main\n"
        "def slow(result, path, *args):\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "export._write_report = slow\n"
        f"sys.exit(main(['run', {str(cfg)!r}, '-q']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "interrupted (SIGTERM); nothing was written; previous outputs left as they were" in err
    assert not list((workdir / "out").glob(".staging-*"))
    assert read_manifest(workdir / "out") is None


# ----------------------------------------------------------------- report updates the manifest


def test_report_into_a_run_folder_updates_the_manifest(workdir):
    cfg = write_config(workdir)
    out = workdir / "out"
    assert main(["run", str(cfg), "-q"]) == 0
    before = read_manifest(out)
    # a report in the other language than the run's (English): other bytes for certain
    assert main(["report", str(cfg), "--lang", "da", "-q"]) == 0
    after = read_manifest(out)
    assert after.files["report.html"] == file_sha256(out / "report.html")
    assert after.files["report.html"] != before.files["report.html"]
    assert {n: d for n, d in after.files.items() if n != "report.html"} == {
        n: d for n, d in before.files.items() if n != "report.html"
    }
    assert main(["run", str(cfg), "-q"]) == 0  # and the next run still owns every file


def test_write_errors_are_exit_2_naming_the_folder(workdir, monkeypatch, capsys):
    import errno

    cfg = write_config(workdir)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("needsmodel.export._write_report", full)
    assert main(["run", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to {workdir / 'out'}: No space left on device" in err
    assert not list((workdir / "out").glob(".staging-*"))
    assert read_manifest(workdir / "out") is None
