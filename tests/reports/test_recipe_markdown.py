"""model_card.md's "Training recipe" section: what the HTML card shows, as Markdown, and
nothing when no recipe ran."""

from __future__ import annotations

from reports.recipe_card import markdown_lines


def test_recipe_section_lists_settings_pools_and_last_measured_values():
    recipe = {"configured": {"mixture": '{"weights": [0.8, 0.2]}', "preset": "few-shot"},
              "examples": 64, "pools": {"main": {"source": "demo", "task": None, "rows": 40}},
              "augment": {"copies": 5, "rows_considered": 40, "rate": 0.1},
              "general_data": {"source": "demo", "rows": 40, "demo": True},
              "terms": {"recipe.ewc": 0.012}, "task_loss": {},
              "last_shares": {"main": 0.75, "general": 0.25}}
    text = "\n".join(markdown_lines(recipe))
    assert "## Training recipe" in text
    assert '| mixture | `{"weights": [0.8, 0.2]}` |' in text and "| preset | `few-shot` |" in text
    assert "held 64 examples" in text and "- pool main: demo, task —, 40 rows" in text
    assert "5 perturbed copies of 40 rows (rate 0.1)" in text and "40 rows, demo data" in text
    assert "regulariser terms at the last logging step: recipe.ewc 0.012" in text
    assert "share of each source trained at the last logging step: general 0.25, main 0.75" in text
    assert "training loss per task" not in text  # nothing measured, nothing said


def test_no_recipe_no_section():
    assert markdown_lines(None) == []
