"""Multiple-choice scoring: items become log-likelihood requests, answers become records.

Zero-shot prompts without a chat template are rendered by the format (the same strings
lm-eval builds, tested); few-shot and chat prompts are built by lm-eval's task machinery
(suites.lmeval_tasks). The model answers the requests (one per choice) and knows nothing
of items; the prediction is lm-eval's (`acc`, or `acc_norm` for cloze formats).
"""

from __future__ import annotations

from harness.core.backends import ModelHandle
from harness.core.errors import InternalError
from harness.core.records import Record
from suites.base import MCItem, RunContext
from suites.formats import PromptFormat, get_format, zero_shot_requests
from suites.lmeval_tasks import task_requests


def choice_requests(model: ModelHandle, items: list[MCItem], fmt: PromptFormat,
                    ctx: RunContext) -> list[list[tuple[str, str]]]:
    """Per item, one (context, continuation) request per option, in option order."""
    if ctx.num_fewshot == 0 and not ctx.apply_chat_template:
        return [zero_shot_requests(item, fmt) for item in items]
    chat = model.apply_chat_template if ctx.apply_chat_template else None
    return task_requests(items, fmt, num_fewshot=ctx.num_fewshot, chat_template=chat,
                         seed=ctx.seed)


def score_mc(model: ModelHandle, items: list[MCItem], prompt_format: str, *, suite: str,
             variant: str = "clean", ctx: RunContext) -> list[Record]:
    """One record per item: the choices' log-likelihoods and lm-eval's prediction."""
    fmt = get_format(prompt_format)
    planned = choice_requests(model, items, fmt, ctx)
    answers = model.loglikelihood([r for requests in planned for r in requests])
    records, offset = [], 0
    for item, requests in zip(items, planned, strict=True):
        logprobs = answers[offset:offset + len(requests)]
        offset += len(requests)
        records.append(mc_record(item, requests[0][0], logprobs, fmt, suite=suite,
                                 variant=variant, demo=ctx.is_demo_data))
    return records


def mc_record(item: MCItem, prompt: str, logprobs: list[float], fmt: PromptFormat, *,
              suite: str, variant: str, demo: bool) -> Record:
    """The record of one scored item; `prompt` is the exact context the choices followed."""
    labels = fmt.labels(item)
    if len(logprobs) != len(fmt.continuations(item)):
        raise InternalError(f"item '{item.item_id}': {len(logprobs)} choice score(s) for "
                            f"{len(fmt.continuations(item))} choices")
    pred_index = fmt.predict(item, logprobs)
    meta = {"pred_index": pred_index, "gold_index": item.answer, "prompt_format": fmt.name,
            "prediction": "acc_norm" if fmt.cloze else "acc",
            **({"subject": item.subject} if item.subject else {}), **item.meta}
    return Record(suite=suite, item_id=item.item_id, variant=variant, prompt=prompt,
                  gold=labels[item.answer], pred=labels[pred_index],
                  correct=pred_index == item.answer, choices=list(item.options),
                  choice_logprobs=[float(x) for x in logprobs], demo=demo, meta=meta)
