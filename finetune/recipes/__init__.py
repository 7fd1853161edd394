"""Training recipes from the fine-tuning lecture: domain mixture schedules, multi-task
weights, curriculum, forgetting regularisers, adversarial augmentation and layer-wise
learning rates (presets are YAML files in finetune/presets).

Public surface (torch is imported only by `prepare`'s modules when training):
    finetune.recipes.setup.prepare(config, tokenizer, data, model, ...) -> RecipeSetup
    finetune.recipes.record.configured(recipes_config) -> dict   (for lineage and reports)
    finetune.recipes.preflight.recipe_sources(config) -> [(role, where, rows)]
    finetune.recipes.schedule: mixture_weights, task_probabilities, admitted_fraction
"""
