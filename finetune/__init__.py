"""medgate finetune: datasets and prompt formatting, PEFT methods, trainer, merge, planning.

Public surface (heavy libraries are imported only when these are called):
    finetune.datasets.load_training_data(config, tokenizer) -> TrainingData
    finetune.datasets.read_training_rows(config) -> (rows, provenance)
    finetune.trainer.train(config, run, *, on_checkpoint=None, resume=False, progress=True) -> TrainResult
    finetune.merge.merge_adapter(base_spec, adapter_dir, out_dir, fmt="safetensors") -> Path
    finetune.plan.model_shape(name), estimate(...), recommend(...)
"""
