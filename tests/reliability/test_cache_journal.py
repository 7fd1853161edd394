"""The per-item cache is the journal of an interrupted suite: every batch scored before the
interruption is stored as it finishes, and the resumed suite scores only the rest."""

from __future__ import annotations

import pytest

from harness.core.backends.base import open_model
from harness.core.backends.lmeval_bridge import score_items as _SCORE_ITEMS
from harness.core.cache import ResultCache
from suites.registry import get_suite, make_context


class _Killed(Exception):
    pass


def _run(model_dir, cache_dir, monkeypatch, *, fail_after: int | None = None):
    from harness.core.backends import lmeval_bridge

    handle = open_model(str(model_dir), tag="base", batch_size=2, cache=ResultCache(cache_dir))
    real, calls = _SCORE_ITEMS, []

    def dying(lm, items, *args, **kwargs):
        if len(calls) == fail_after:
            raise _Killed  # the process dies while scoring this batch
        calls.append(len(items))
        return real(lm, items, *args, **kwargs)

    monkeypatch.setattr(lmeval_bridge, "score_items", dying)
    ctx = make_context("medqa", None, limit=6, batch_size=2)
    return handle, get_suite("medqa").run(handle, ctx)


def test_batches_scored_before_an_interruption_are_kept_and_not_scored_again(
        tmp_path, tiny_model_dir, monkeypatch):
    with pytest.raises(_Killed):
        _run(tiny_model_dir, tmp_path / "journal", monkeypatch, fail_after=2)
    resumed, result = _run(tiny_model_dir, tmp_path / "journal", monkeypatch)
    assert resumed.stats["cache_hits"] == 4  # two batches of two survived the interruption
    assert resumed.stats["items_scored"] == 2  # only the batch that was cut short
    clean, reference = _run(tiny_model_dir, tmp_path / "fresh", monkeypatch)
    assert clean.stats["items_scored"] == 6
    assert [r.model_dump() for r in result.records] == [r.model_dump() for r in reference.records]
