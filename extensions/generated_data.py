"""Where cruijff_kit's tabular-to-text generator wrote a condition's test file.

A task with `eval_condition: C` evaluates on `{scratch}/ck-data/generated/C_test_{hash8}.json`.
The hash is the first 8 hex digits of SHA-256 over the condition's generation settings,
canonicalised, serialised as compact JSON with sorted keys; the settings include the SHA-256
of the source table, the schema and any template file. This follows cruijff_kit v0.3.4's
`config_hash.py` (build_generation_config, canonicalize, hash_config_short) rule for rule:
the same settings give the same file name, so a path computed here is the file the
generator wrote, or one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import InputError
from .finetune import current_user, expand_user
from .paths import resolve

SPLIT = "test"
GENERATED_DIR = "ck-data/generated"
# A field absent and the field present with its default must hash alike; setdefault, as
# cruijff_kit does: a field written as null stays null.
_DEFAULTS = {
    "perturbations": [],
    "subsampling_ratio": 1.0,
    "missing_value_handling": "skip",
    "context": "",
    "context_placement": "preamble",
    "question": "",
    "one_to_many": None,
    "template_file_sha256": None,
    "style_guidance": None,
}
# Only these templates read style_guidance; for the others it must not change the name.
_STYLED_TEMPLATES = ("llm_narrative", "narrative")


def generated_test_file(generation: dict, condition: str, scratch: str, experiment_dir: Path, summary: Path) -> str:
    """The test file of `condition`, reading the files its hash covers."""
    settings = _settings(generation, condition, experiment_dir, summary)
    digest = hashlib.sha256(json.dumps(_canonical(settings), sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{scratch.rstrip('/')}/{GENERATED_DIR}/{condition}_{SPLIT}_{digest[:8]}.json"


def _settings(generation: dict, condition: str, experiment_dir: Path, summary: Path) -> dict:
    conditions = generation.get("conditions") or {}
    if not isinstance(conditions, dict):
        raise InputError(summary, f"data.data_generation.conditions is {conditions!r}, not a mapping of condition names",
                         "write each condition as a key under conditions:, e.g. `words_5L: {features: [A, B], template: dictionary}`")
    if condition not in conditions:
        known = ", ".join(sorted(map(str, conditions))) or "none"
        raise InputError(summary, f"eval_condition {condition!r} is not a condition of data.data_generation (its conditions: {known})",
                         "name one of data.data_generation.conditions")
    own = conditions[condition] or {}
    if not isinstance(own, dict):
        raise InputError(summary, f"data.data_generation.conditions.{condition} is {own!r}, not a mapping of its settings",
                         f"write the condition's settings under {condition}:, e.g. `{condition}: {{features: [A, B], template: dictionary}}`")
    target = generation.get("target") or {}
    if not isinstance(target, dict):
        raise InputError(summary, f"data.data_generation.target is {target!r}, not a mapping",
                         "write target: with its column: (and threshold: or mapping:), as the data was generated")
    _check_settings(own, condition, target, summary)
    kept_target = {key: target[key] for key in ("column",) if key in target}
    kept_target.update({key: target[key] for key in ("threshold", "mapping") if target.get(key) is not None})
    template_file = own.get("template_file")
    return {
        "source_sha256": _file_sha256(generation, "source", experiment_dir, summary),
        "schema_sha256": _file_sha256(generation, "schema", experiment_dir, summary),
        "features": list(own.get("features") or []),
        "template": own.get("template", "dictionary"),
        "template_file_sha256": _file_sha256(own, "template_file", experiment_dir, summary) if template_file else None,
        "perturbations": list(own.get("perturbations") or []),
        "target": kept_target,
        "context": generation.get("context", ""),
        "context_placement": generation.get("context_placement", "preamble"),
        "question": generation.get("question", ""),
        "split_ratio": generation.get("split_ratio", 0.8),
        "validation_ratio": generation.get("validation_ratio"),
        "seed": generation.get("seed", 42),
        "subsampling_ratio": generation.get("subsampling_ratio"),
        "missing_value_handling": generation.get("missing_value_handling", "skip"),
        "missing_value_text": generation.get("missing_value_text", "missing"),
        "one_to_many": own.get("one_to_many"),
        "style_guidance": own.get("style_guidance"),
    }


def _check_settings(own: dict, condition: str, target: dict, summary: Path) -> None:
    """What the generator would refuse or misread: a hash of such settings names no file."""
    for key in ("features", "perturbations"):
        value = own.get(key)
        if value is not None and not isinstance(value, list):
            # list("a,b") is four characters: a file named after them was never written.
            raise InputError(summary, f"data.data_generation.conditions.{condition}.{key} is {value!r}, not a YAML list",
                             f"write {key} as a list, e.g. {key}: [A, B]")
    threshold = target.get("threshold")
    if threshold is not None:
        try:
            number = float(threshold) if not isinstance(threshold, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise InputError(summary, f"data.data_generation.target.threshold is {threshold!r}, not a number",
                             "write the number the generator splits the target at, e.g. threshold: 50000")


def _canonical(settings: dict) -> dict:
    canonical = dict(settings)
    for key, default in _DEFAULTS.items():
        canonical.setdefault(key, default)
    if canonical.get("missing_value_handling") != "include":
        canonical.pop("missing_value_text", None)
    else:
        canonical.setdefault("missing_value_text", "missing")
    if canonical.get("template") not in _STYLED_TEMPLATES:
        canonical["style_guidance"] = None
    target = canonical.get("target")
    if isinstance(target, dict) and target.get("threshold") is not None:
        canonical["target"] = {**target, "threshold": float(target["threshold"])}
    return canonical


def _file_sha256(settings: dict, key: str, experiment_dir: Path, summary: Path) -> str:
    written = settings.get(key)
    if not isinstance(written, str) or not written:
        raise InputError(summary, f"data.data_generation has no {key} path, which names the generated files",
                         f"write data.data_generation.{key}: /path/to/the/file, as the data was generated")
    digest = hashlib.sha256()
    try:
        # `$USER` is the renderer's, as in every path of the summary (docs/INPUTS.md).
        with open(resolve(experiment_dir, expand_user(written, current_user())), "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        raise InputError(
            summary,
            f"data.data_generation's {key} {written} cannot be read ({error.strerror or error}): the generated "
            "test file is named after a hash of its content",
            "render where the generator's input files are readable (the cluster), or write the test file's path "
            "as the task's dataset:",
        ) from None
    return digest.hexdigest()
