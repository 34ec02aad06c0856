"""Outputs: never half-written, never over an input, a manifest, byte-identical reruns."""

from __future__ import annotations

import json
import signal

import openpyxl
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.errors import OutputError
from needsmodel.outputs import (
    MANIFEST,
    RunInterrupted,
    file_sha256,
    read_manifest,
    staged_outputs,
)


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_manifest_lists_every_file_with_its_hash(workdir):
    result = nm.run(write_config(workdir))
    files = result.write()
    manifest = json.loads((workdir / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {f.relative_to(workdir / "out").as_posix() for f in files}
    for name, digest in manifest["files"].items():
        assert file_sha256(workdir / "out" / name) == digest
    assert manifest["inputs"] == result.inputs and manifest["version"] == nm.__version__
    assert manifest["config"] == str(workdir / "config.toml")


def test_a_later_run_replaces_its_own_stale_files_but_not_yours(workdir):
    nm.run(write_config(workdir, allocation={"phase_in_years": 3})).write()
    out = workdir / "out"
    assert (out / "transition_path.csv").exists()
    (out / "my_notes.txt").write_text("keep me")
    nm.run(write_config(workdir)).write()  # no phase-in: no transition path
    assert not (out / "transition_path.csv").exists()
    assert (out / "my_notes.txt").read_text() == "keep me"


def test_a_stale_file_someone_edited_is_kept(workdir):
    nm.run(write_config(workdir, allocation={"phase_in_years": 3})).write()
    out = workdir / "out"
    (out / "transition_path.csv").write_text("edited by hand")
    nm.run(write_config(workdir)).write()
    assert (out / "transition_path.csv").read_text() == "edited by hand"


def test_cli_says_what_it_replaces(workdir, capsys):
    cfg = write_config(workdir)
    assert main(["run", str(cfg), "-q"]) == 0
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "replacing the outputs of the run at" in out and "same inputs" in out


def test_interrupted_run_leaves_previous_outputs(workdir, monkeypatch):
    result = nm.run(write_config(workdir))
    result.write()
    before = _files(workdir / "out")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("needsmodel.export._write_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        result.write()
    assert _files(workdir / "out") == before
    assert not list((workdir / "out").glob(".staging-*"))


def test_ctrl_c_during_the_final_moves_is_held_until_they_are_done(tmp_path, monkeypatch):
    """SIGINT arriving while files are moved into place waits until every file is moved."""
    import os

    out = tmp_path / "out"
    names = tuple(f"f{i}.txt" for i in range(50))
    real_replace = os.replace
    calls = []

    def replace_and_interrupt(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the moves
        real_replace(src, dst)

    monkeypatch.setattr("needsmodel.outputs.os.replace", replace_and_interrupt)

    def write_all() -> None:
        with staged_outputs(out, names, set()) as stage:
            for n in names:
                (stage / n).write_text(n)

    with pytest.raises(RunInterrupted) as caught:
        write_all()
    assert caught.value.committed  # the message will say the new outputs are complete
    assert sorted(p.name for p in out.glob("f*.txt")) == sorted(names)  # all or nothing: all
    assert not list(out.glob(".staging-*"))


def test_refuses_the_config_folder_and_never_overwrites_an_input(workdir):
    cfg = write_config(workdir, output={"dir": "."})
    result = nm.run(cfg)
    with pytest.raises(OutputError, match="holds the run's config or input files"):
        result.write()
    assert not (workdir / MANIFEST).exists()
    out = workdir / "out"
    with (
        pytest.raises(OutputError, match="would overwrite an input file"),
        staged_outputs(out, ("school_districts.csv",), {(out / "school_districts.csv").resolve()}),
    ):
        pass
    assert (workdir / "school_districts.csv").read_bytes() == (
        nm.datasets.sample_dir() / "school_districts.csv"
    ).read_bytes()


def test_read_manifest_of_a_folder_without_one(tmp_path):
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text("{not json")
    assert read_manifest(tmp_path) is None


def test_two_demo_runs_give_byte_identical_csv_and_workbook_values(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "a"), "-q"]) == 0
    assert main(["demo", "--out", str(tmp_path / "b"), "-q"]) == 0
    a, b = tmp_path / "a", tmp_path / "b"
    csvs = sorted(p.name for p in a.glob("*.csv"))
    assert len(csvs) >= 8
    for name in csvs:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    wa = openpyxl.load_workbook(a / "allocation_keys.xlsx")
    wb = openpyxl.load_workbook(b / "allocation_keys.xlsx")
    assert wa.sheetnames == wb.sheetnames
    for sheet in wa.sheetnames:
        va = [[c.value for c in row] for row in wa[sheet].iter_rows()]
        vb = [[c.value for c in row] for row in wb[sheet].iter_rows()]
        if sheet == "metadata":  # the time of the run lives here, and only here
            va = [r for r in va if r[0] not in ("run at (UTC)", "kørt (UTC)")]
            vb = [r for r in vb if r[0] not in ("run at (UTC)", "kørt (UTC)")]
        assert va == vb, sheet
