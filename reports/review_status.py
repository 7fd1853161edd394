"""How far each medical reviewer got with the review sample, for the sign-off rules.

A sign-off that approves a release counts toward the expert review only from a reviewer
who actually read what the tool asked them to read: their latest fresh review file
(gates.review) must cover every record of the review sample (reports.review_sample).
"""

from __future__ import annotations

from dataclasses import dataclass

from gates.review import latest_fresh, normalise_reviewer, read_reviews
from harness.core.rundir import RunDir
from reports.review_sample import read_sample, sample_keys


@dataclass(frozen=True)
class ReviewerProgress:
    """One reviewer's latest fresh review file measured against the sample."""

    reviewer: str
    role: str
    reviewed: int  # records reviewed in all
    in_sample: int  # of them, records of the sample
    sample_size: int
    disagreements: int
    harmful_found: int  # records they marked harmful where the judge had not

    @property
    def complete(self) -> bool:
        return self.sample_size > 0 and self.in_sample >= self.sample_size

    def describe(self) -> str:
        return (f"reviewed {self.in_sample} of {self.sample_size} sample records"
                f" ({self.reviewed} in all), {self.disagreements} disagreement(s) with the "
                f"judge")


@dataclass(frozen=True)
class ReviewProgress:
    """Whether a sample was drawn, its size, and each reviewer's progress by name key."""

    sample_size: int
    reviewers: dict[str, ReviewerProgress]
    stale_files: int

    @property
    def drawn(self) -> bool:
        return self.sample_size > 0

    def of(self, reviewer: str) -> ReviewerProgress | None:
        return self.reviewers.get(normalise_reviewer(reviewer))


def review_progress(run: RunDir) -> ReviewProgress:
    """Every reviewer's progress on the run's review sample (empty when none was drawn)."""
    keys = sample_keys(read_sample(run))
    reviews = read_reviews(run)
    found: dict[str, ReviewerProgress] = {}
    for review in latest_fresh(reviews):
        entries = review.entries
        found[review.reviewer_key] = ReviewerProgress(
            reviewer=review.reviewer, role=review.role, reviewed=len(entries),
            in_sample=len(review.keys & keys), sample_size=len(keys),
            disagreements=sum(e.verdict == "disagree" for e in entries),
            harmful_found=sum(e.verdict == "disagree" and e.harmful is True for e in entries))
    return ReviewProgress(sample_size=len(keys), reviewers=found,
                          stale_files=sum(r.stale for r in reviews))
