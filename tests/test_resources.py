"""Resources by model size, and the time limit."""

from __future__ import annotations

import pytest

from extensions.resources import resources_for, time_limit


@pytest.mark.parametrize(
    "model,tier",
    [
        ("Llama-3.2-1B-Instruct", "1B"),
        ("Qwen2.5-0.5B-Instruct", "1B"),
        ("SmolLM2-135M-Instruct", "1B"),
        ("gemma-2-2b-it", "3B"),
        ("Llama-3.2-3B-Instruct", "3B"),
        ("Qwen2.5-7B-Instruct", "8B"),
        ("Llama-3.1-8B-Instruct", "8B"),
        ("Llama-3.2-11B-Vision-Instruct", "70B"),  # 11B is never 1B
        ("Mixtral-8x7B-Instruct", "70B"),
        ("Llama-3.3-70B-Instruct", "70B"),
    ],
)
def test_tier_by_whole_size_token(model, tier):
    resources, warning = resources_for(model)
    assert resources["tier"] == tier
    assert warning is None


def test_tiers_match_the_seed_table():
    table = {
        model: {k: v for k, v in resources_for(model)[0].items() if k != "tier"}
        for model in ("Llama-3.2-1B", "Llama-3.2-3B", "Llama-3.1-8B", "Llama-3.3-70B")
    }
    assert table == {
        "Llama-3.2-1B": {"mem": "32G", "gpus": 1, "constraint": "", "cpus": 4},
        "Llama-3.2-3B": {"mem": "64G", "gpus": 1, "constraint": "gpu80", "cpus": 4},
        "Llama-3.1-8B": {"mem": "96G", "gpus": 1, "constraint": "gpu80", "cpus": 8},
        "Llama-3.3-70B": {"mem": "256G", "gpus": 4, "constraint": "gpu80", "cpus": 8},
    }


@pytest.mark.parametrize("model", ["phi-3-mini-4k-instruct", "my-model", "Llama-3.1-405B"])
def test_unknown_or_oversized_models_warn(model):
    resources, warning = resources_for(model)
    assert warning and model in warning
    assert resources["tier"] in ("1B", "70B")


@pytest.mark.parametrize(
    "minutes,limit",
    [(None, "0:30:00"), (5, "0:30:00"), (15, "0:30:00"), (20, "0:40:00"), (45, "1:30:00"), (0.75 * 60 * 10, "15:00:00"), (12.25, "0:30:00"), (15.5, "0:31:00")],
)
def test_time_is_twice_the_estimate_at_least_30_minutes(minutes, limit):
    assert time_limit(minutes) == limit
