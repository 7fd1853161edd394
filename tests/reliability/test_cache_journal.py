"""The result cache is the journal of an interrupted suite: every batch of requests answered
before the interruption is stored as it finishes, and the resumed suite asks only the rest."""

from __future__ import annotations

import pytest

from harness.core.backends import open_model
from harness.core.backends.hf import HFHandle
from harness.core.cache import ResultCache
from suites.registry import get_suite, make_context

_ANSWER = HFHandle._loglikelihood


class _Killed(Exception):
    pass


def _run(model_dir, cache_dir, monkeypatch, *, fail_after: int | None = None):
    handle = open_model(str(model_dir), tag="base", batch_size=2, cache=ResultCache(cache_dir))
    calls = []

    def dying(self, requests):
        if len(calls) == fail_after:
            raise _Killed  # the process dies while answering this batch
        calls.append(len(requests))
        return _ANSWER(self, requests)

    monkeypatch.setattr(HFHandle, "_loglikelihood", dying)
    ctx = make_context("medqa", None, limit=6)
    return handle, get_suite("medqa").run(handle, ctx)


def test_batches_scored_before_an_interruption_are_kept_and_not_scored_again(
        tmp_path, tiny_model_dir, monkeypatch):
    with pytest.raises(_Killed):
        _run(tiny_model_dir, tmp_path / "journal", monkeypatch, fail_after=2)
    resumed, result = _run(tiny_model_dir, tmp_path / "journal", monkeypatch)
    # a batch is two prompts (batch_size) of four choices each
    assert resumed.stats["cache_hits"] == 16  # two batches survived the interruption
    assert resumed.stats["requests_scored"] == 8  # only the batch that was cut short
    clean, reference = _run(tiny_model_dir, tmp_path / "fresh", monkeypatch)
    assert clean.stats["requests_scored"] == 24
    assert [r.model_dump() for r in result.records] == [r.model_dump() for r in reference.records]
