"""SLURM resources for a model, by the size in its name (the seed's table)."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

DEFAULT_TIME_MINUTES = 30


@dataclass(frozen=True)
class Tier:
    name: str
    billions: float  # the largest model this tier is sized for
    mem: str
    gpus: int
    constraint: str
    cpus: int


TIERS = (
    Tier("1B", 1, "32G", 1, "", 4),
    Tier("3B", 3, "64G", 1, "gpu80", 4),
    Tier("8B", 8, "96G", 1, "gpu80", 8),
    Tier("70B", 70, "256G", 4, "gpu80", 8),
)

# A size is a whole token of the name: "Llama-3.2-1B" has 1B, "Llama-3.2-11B" has 11B (never
# 1B), "Qwen2.5-0.5B" has 0.5B, "SmolLM-135M" has 135M, "Mixtral-8x7B" has 8 x 7B.
_SIZE = re.compile(
    r"(?<![A-Za-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([BbMm])(?![A-Za-z0-9])"
)


def model_billions(model: str) -> float | None:
    """Parameters in billions, from the size token of a model name, or None."""
    match = _SIZE.search(model)
    if not match:
        return None
    experts, amount, unit = match.groups()
    billions = float(amount) * (int(experts) if experts else 1)
    return billions / 1000 if unit in "Mm" else billions


def tier_for(model: str) -> tuple[Tier, str | None]:
    """The smallest tier that fits the model, and a warning when it had to be guessed."""
    billions = model_billions(model)
    if billions is None:
        return TIERS[0], (
            f"model '{model}' has no size (like 1B, 8B, 70B) in its name: "
            f"using the {TIERS[0].name} resources; check them in the scripts"
        )
    for tier in TIERS:
        if billions <= tier.billions:
            return tier, None
    return TIERS[-1], (
        f"model '{model}' ({billions:g}B) is larger than the largest tier ({TIERS[-1].name}): "
        f"using the {TIERS[-1].name} resources; it may need more"
    )


def time_limit(per_eval_minutes: float | None) -> str:
    """30 minutes, or twice the estimated time of one eval when that is longer."""
    minutes = DEFAULT_TIME_MINUTES
    if per_eval_minutes:
        minutes = max(minutes, 2 * per_eval_minutes)
    seconds = math.ceil(minutes * 60)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def resources_for(model: str) -> tuple[dict, str | None]:
    """The tier's resources (the time limit is the plan's: see precedence.time)."""
    tier, warning = tier_for(model)
    resources = asdict(tier)
    del resources["billions"]
    resources["tier"] = resources.pop("name")
    return resources, warning
