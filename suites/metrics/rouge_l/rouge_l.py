"""ROUGE-L F-measure as a local `evaluate` metric over rouge-score (loads offline)."""

import datasets
import evaluate
from rouge_score import rouge_scorer


class RougeL(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="ROUGE-L F-measure (longest common subsequence), rouge-score with stemming",
            citation="Lin, 2004. ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description="predictions: list of str; references: list of str",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        scores = [scorer.score(ref, pred)["rougeL"].fmeasure
                  for pred, ref in zip(predictions, references)]
        return {"rouge_l": sum(scores) / len(scores) if scores else float("nan")}
