"""Metric values on hand-checkable inputs, and the offline text metrics."""

from __future__ import annotations

import itertools
import math

import pytest

from harness.core.records import Record
from suites import metrics

_ids = itertools.count()


def rec(gold: int, logprobs: list[float], labels=("A", "B", "C", "D")) -> Record:
    """One item's record (each its own item: ids from a counter, never reused)."""
    pred = max(range(len(logprobs)), key=lambda i: logprobs[i])
    return Record(suite="s", item_id=f"item{next(_ids)}", prompt="p", gold=labels[gold],
                  pred=labels[pred], correct=pred == gold, choice_logprobs=logprobs,
                  meta={"gold_index": gold, "pred_index": pred})


def test_accuracy_wilson():
    entry = metrics.accuracy([rec(0, [0, -1]), rec(1, [0, -1])])
    assert entry.value == 0.5 and entry.n == 2 and entry.ci[0] < 0.5 < entry.ci[1]


def test_brier_and_ece_of_certain_predictions():
    sure_right = [rec(0, [0.0, -100.0]) for _ in range(4)]
    assert metrics.brier(sure_right).value == pytest.approx(0.0, abs=1e-9)
    assert metrics.ece(sure_right).value == pytest.approx(0.0, abs=1e-9)
    sure_wrong = [rec(1, [0.0, -100.0]) for _ in range(4)]
    assert metrics.brier(sure_wrong).value == pytest.approx(2.0)
    assert metrics.ece(sure_wrong).value == pytest.approx(1.0)
    half = [rec(0, [0.0, 0.0]), rec(1, [0.0, 0.0])]  # p = 0.5 each, argmax picks index 0
    assert metrics.brier(half).value == pytest.approx(0.5)
    assert metrics.ece(half).value == pytest.approx(0.0)


def test_macro_f1():
    labels = ("yes", "no", "maybe")
    recs = [rec(0, [0, -1, -1], labels), rec(1, [-1, 0, -1], labels), rec(2, [0, -1, -1], labels)]
    # yes: P=1/2 R=1 F=2/3; no: F=1; maybe: F=0 -> 5/9
    assert metrics.macro_f1(recs, labels).value == pytest.approx(5 / 9)


def test_rouge_bleu_offline():
    rouge, per = metrics.rouge_l(["the patient is stable"], ["the patient is stable"])
    assert rouge.value == pytest.approx(1.0) and per == [pytest.approx(1.0)]
    bleu, _ = metrics.bleu4(["a b c d e f"], ["a b c d e f"])
    assert bleu.value == pytest.approx(1.0)
    bleu, _ = metrics.bleu4(["x y z"], ["a b c d e f"])
    assert bleu.value == pytest.approx(0.0)


def test_perplexity():
    ppl, bpb = metrics.perplexity([(-2 * math.log(2), 2), (-2 * math.log(2), 2)], [4, 4])
    assert ppl.value == pytest.approx(2.0) and bpb.value == pytest.approx(0.5)
