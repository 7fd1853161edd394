"""The request-level backend: answers keyed by everything that determines them, computed in
batches that never split a context, stored as each batch finishes."""

from __future__ import annotations

import pytest

from harness.core.backends import GenerationSettings, ModelHandle
from harness.core.cache import ResultCache
from harness.core.errors import BadInputError
from harness.core.models import ModelSpec, tokenizer_identity


class CountingHandle(ModelHandle):
    """A backend whose answers are arithmetic on the request, so the cache can be watched."""

    backend = "counting"

    def __init__(self, cache: ResultCache, *, dtype: str = "float32", tokenizer: str = "tok-a",
                 fail_on_batch: int | None = None, **kwargs) -> None:
        super().__init__(ModelSpec(name="counting", source="/nonexistent/model"), dtype=dtype,
                         cache=cache, **kwargs)
        self._fingerprint = "sha256:weights"
        self._tokenizer_id = tokenizer
        self.batches: list[list[tuple[str, str]]] = []
        self.fail_on_batch = fail_on_batch

    def _loglikelihood(self, requests):
        if len(self.batches) == self.fail_on_batch:
            raise RuntimeError("killed")
        self.batches.append([tuple(r) for r in requests])
        return [-float(len(c) + len(x)) for c, x in requests]

    def _generate(self, prompts, settings):
        self.batches.append([(p, "") for p in prompts])
        return [f"{p}|{settings.max_new_tokens}|{settings.chat_template}" for p in prompts]


REQUESTS = [(f"prompt {i}", f" {c}") for i in range(5) for c in "ABCD"]


def test_answers_come_in_request_order_and_a_rerun_is_all_cache(tmp_path):
    first = CountingHandle(ResultCache(tmp_path), batch_size=2)
    answers = first.loglikelihood(REQUESTS)
    assert answers == [-float(len(c) + len(x)) for c, x in REQUESTS]
    # batches of two contexts with all their continuations: 8, 8 and 4 requests
    assert [len(b) for b in first.batches] == [8, 8, 4]
    assert all(len({c for c, _ in b}) <= 2 for b in first.batches)
    again = CountingHandle(ResultCache(tmp_path), batch_size=2)
    assert again.loglikelihood(REQUESTS) == answers
    assert again.batches == [] and again.stats["cache_hits"] == 20


def test_identical_requests_are_computed_once(tmp_path):
    handle = CountingHandle(ResultCache(tmp_path))
    assert handle.loglikelihood([("p", " A"), ("p", " A")]) == [-3.0, -3.0]
    assert handle.stats["requests_scored"] == 1


@pytest.mark.parametrize("change", [{"dtype": "bfloat16"}, {"tokenizer": "tok-b"}])
def test_dtype_and_tokenizer_are_part_of_the_key(tmp_path, change):
    CountingHandle(ResultCache(tmp_path)).loglikelihood(REQUESTS)
    other = CountingHandle(ResultCache(tmp_path), **change)
    other.loglikelihood(REQUESTS)
    assert other.stats["cache_hits"] == 0 and other.stats["requests_scored"] == 20


def test_every_generation_setting_is_part_of_the_key(tmp_path):
    cache = ResultCache(tmp_path)
    base = GenerationSettings(max_new_tokens=8)
    CountingHandle(cache).generate(["a", "b"], base)
    for settings in (base, GenerationSettings(max_new_tokens=9),
                     GenerationSettings(max_new_tokens=8, chat_template=False)):
        handle = CountingHandle(cache)
        out = handle.generate(["a", "b"], settings)
        assert out == [f"{p}|{settings.max_new_tokens}|{settings.chat_template}" for p in "ab"]
        assert handle.stats["cache_hits"] == (2 if settings == base else 0)
    with pytest.raises(BadInputError, match="max_new_tokens"):
        GenerationSettings(max_new_tokens=0)


def test_a_killed_run_keeps_the_batches_it_finished(tmp_path):
    dying = CountingHandle(ResultCache(tmp_path), batch_size=2, fail_on_batch=1)
    with pytest.raises(RuntimeError):
        dying.loglikelihood(REQUESTS)
    resumed = CountingHandle(ResultCache(tmp_path), batch_size=2)
    resumed.loglikelihood(REQUESTS)
    assert resumed.stats["cache_hits"] == 8 and resumed.stats["requests_scored"] == 12


def test_no_cache_neither_reads_nor_writes(tmp_path):
    CountingHandle(ResultCache(tmp_path)).loglikelihood(REQUESTS[:4])
    off = CountingHandle(ResultCache(tmp_path))
    off.use_cache = False
    off.loglikelihood(REQUESTS)
    assert off.stats["cache_hits"] == 0 and off.stats["requests_scored"] == 20
    on = CountingHandle(ResultCache(tmp_path))
    on.loglikelihood(REQUESTS)
    assert on.stats["cache_hits"] == 4


def test_tokenizer_identity_sees_the_chat_template(smol_tokenizer):
    import copy

    other = copy.deepcopy(smol_tokenizer)
    other.chat_template = "{{ messages[0]['content'] }}"
    assert tokenizer_identity(smol_tokenizer) == tokenizer_identity(copy.deepcopy(smol_tokenizer))
    assert tokenizer_identity(other) != tokenizer_identity(smol_tokenizer)


def test_tokenizer_identity_is_remembered_without_loading_it(tiny_model_dir, tmp_path):
    from harness.core.backends import open_model

    first = open_model(str(tiny_model_dir), cache=ResultCache(tmp_path))
    identity = first.tokenizer_id
    assert first._tokenizer is not None  # computed from the loaded tokenizer
    second = open_model(str(tiny_model_dir), cache=ResultCache(tmp_path))
    assert second.tokenizer_id == identity and second._tokenizer is None
    (tiny_model_dir / "tokenizer_config.json").touch()  # a changed file is read again
    third = open_model(str(tiny_model_dir), cache=ResultCache(tmp_path))
    assert third.tokenizer_id == identity and third._tokenizer is not None
