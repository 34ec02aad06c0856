"""The collector pause around heavy imports leaves the collector as it found it."""

from __future__ import annotations

import gc

import pytest

from needsmodel._deferred import paused_gc


@pytest.fixture
def restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_pause_disables_and_restores(restore_gc):
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_pause_restores_after_an_error(restore_gc):
    gc.enable()
    with pytest.raises(ImportError), paused_gc():
        import needsmodel_no_such_module  # noqa: F401
    assert gc.isenabled()


def test_pause_keeps_a_disabled_collector_disabled(restore_gc):
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_nested_pauses_restore_only_at_the_outer_exit(restore_gc):
    gc.enable()
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
