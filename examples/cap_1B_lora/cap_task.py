"""Inspect tasks for the capitalization experiment.

The evaluation scripts pass `data_path`, `prompt` and `system_prompt` exactly as the run was
trained with them, so the model sees the same text at evaluation as during fine-tuning.
"""

import json

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import exact
from inspect_ai.solver import generate


def _samples(data_path: str, prompt: str, system_prompt: str, split: str) -> list[Sample]:
    with open(data_path, encoding="utf-8") as file:
        records = json.load(file)[split]
    samples = []
    for record in records:
        # The system message is built here rather than with inspect's system_message(),
        # which reads its text as a file path when such a file exists and runs str.format
        # over it: the model must see the training text byte for byte.
        messages = [ChatMessageSystem(content=system_prompt)] if system_prompt else []
        messages.append(ChatMessageUser(content=prompt.format(input=record["input"])))
        samples.append(Sample(input=messages, target=record["output"]))
    return samples


def _capitalization_task(data_path: str, prompt: str, system_prompt: str, split: str) -> Task:
    return Task(
        dataset=MemoryDataset(_samples(data_path, prompt, system_prompt, split)),
        solver=generate(),
        scorer=exact(),
    )


@task
def capitalization(
    data_path: str, prompt: str = "{input}", system_prompt: str = "", split: str = "test"
) -> Task:
    """Capitalize held-out words of the training distribution."""
    return _capitalization_task(data_path, prompt, system_prompt, split)


@task
def capitalization_6L(
    data_path: str, prompt: str = "{input}", system_prompt: str = "", split: str = "test"
) -> Task:
    """Capitalize six-letter words: the same skill on inputs the runs never saw."""
    return _capitalization_task(data_path, prompt, system_prompt, split)
