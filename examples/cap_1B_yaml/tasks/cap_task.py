"""Capitalization eval that takes its prompts from a config file (cruijff_kit v0.3.4 style).

The renderer passes `-T config_path=<eval.yaml>`; the prompt template and the system prompt
are read from that file, never from the command line, so braces and newlines in them reach
the model unchanged. Every sample records in its metadata the prompt template and system
prompt the task read, so a test can check them in the .eval log.

    inspect eval config_task.py@capitalization --model mockllm/model \
        -T data_path=words.json -T config_path=eval.yaml
"""

import json

import yaml
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import includes, match
from inspect_ai.solver import generate


def _read_config(config_path: str) -> dict:
    if not config_path:
        return {}
    with open(config_path, encoding="utf-8") as file:
        return yaml.safe_load(file) or {}


def _as_bool(value) -> bool:
    # -T values arrive parsed as YAML, but a quoted "false" stays a string.
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@task
def capitalization(
    data_path: str,
    config_path: str = "",
    split: str = "test",
    temperature: float = 1e-7,
    max_tokens: int = 20,
    vis_label: str = "",
    use_chat_template: bool = True,
) -> Task:
    """Capitalize the first letter of held-out words.

    data_path: JSON file of {"train": [...], "test": [...]} records with input and output.
    config_path: YAML file holding `prompt` (default "{input}") and `system_prompt` (default "").
    vis_label: appended to the task name so runs are told apart in inspect view.
    use_chat_template: false for base models; the system prompt is then not sent.
    """
    config = _read_config(config_path)
    prompt = config.get("prompt") or "{input}"
    system_prompt = config.get("system_prompt") or ""
    chat = _as_bool(use_chat_template)

    with open(data_path, encoding="utf-8") as file:
        records = json.load(file)[split]

    samples = []
    for record in records:
        text = prompt.format(input=record["input"])
        if chat:
            messages = [ChatMessageSystem(content=system_prompt)] if system_prompt else []
            messages.append(ChatMessageUser(content=text))
            sample_input = messages
        else:
            sample_input = text
        samples.append(
            Sample(
                input=sample_input,
                target=record["output"],
                metadata={
                    "prompt": prompt,
                    "system_prompt": system_prompt,
                    "system_prompt_sent": bool(chat and system_prompt),
                },
            )
        )

    return Task(
        name=f"capitalization_{vis_label}" if vis_label else "capitalization",
        dataset=MemoryDataset(samples, name=f"{split} words"),
        solver=generate(temperature=temperature, max_tokens=max_tokens),
        scorer=[match(location="exact", ignore_case=False), includes(ignore_case=False)],
    )
