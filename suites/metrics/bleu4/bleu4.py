"""Corpus BLEU-4 (0-1 scale) as a local `evaluate` metric over sacrebleu (loads offline)."""

import datasets
import evaluate
import sacrebleu


class Bleu4(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Corpus BLEU with up to 4-grams (sacrebleu defaults), divided by 100",
            citation="Post, 2018. A Call for Clarity in Reporting BLEU Scores.",
            inputs_description="predictions: list of str; references: list of str (one each)",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        if not predictions:
            return {"bleu4": float("nan")}
        scorer = sacrebleu.metrics.BLEU(max_ngram_order=4)
        return {"bleu4": scorer.corpus_score(list(predictions), [list(references)]).score / 100.0}
