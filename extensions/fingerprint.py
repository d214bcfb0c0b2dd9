"""A cell's fingerprint: one short digest of everything its script hands to inspect.

A result belongs to the inputs that made it. The fingerprint goes into the log's header
metadata (`inspect eval --metadata fingerprint=…`) and into the done mark, so that after a
prompt fix and `copier update` the cells evaluated with the old prompt are told apart from
those of the plan now: submit_evals.sh calls them stale (--status, --only-missing submits
them again) and collect_results.py leaves their logs out unless asked (--include-stale).

What is hashed is what changes an evaluation's outcome: the task (file and @task), the model
and how it is loaded, the data, prompt and system prompt as delivered (the task arguments and
the per-cell config file), and the decoding. What only changes how fast or where it runs
(max_connections, the Slurm resources, the paths of the marks) is left out, so moving a
tree or giving it more memory does not make its results stale. A path inside the experiment
(a dataset or checkpoint kept in the tree) is hashed relative to it for the same reason: the
tree moved is the same inputs.
"""

from __future__ import annotations

import hashlib
import json

# Decoding keys that change what the model generates; max_connections only changes how many
# samples run at once.
DECODING_KEYS = ("do_sample", "temperature", "max_tokens", "seed", "enable_thinking")
LENGTH = 16  # hex digits: 64 bits, far beyond any collision among one experiment's cells


def cell_fingerprint(*, experiment_dir: str, task_file: str, function: str, model_path: str, device_auto: bool,
                     task_args: dict, config: dict | None, decoding: dict) -> str:
    inputs = within(experiment_dir, {
        "task_file": task_file,
        "function": function,
        "model_path": model_path,
        "device_auto": device_auto,
        "task_args": task_args,
        "config": config,
        "decoding": {key: decoding.get(key) for key in DECODING_KEYS},
    })
    # sort_keys and fixed separators: the same inputs give the same text on every machine;
    # ASCII escapes, so that any string (a lone surrogate of a JSON-escaped emoji too) hashes.
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:LENGTH]


def within(experiment_dir: str, value):
    """value with every path inside experiment_dir written relative to it, as $EXPERIMENT_DIR/…"""
    if isinstance(value, dict):
        return {key: within(experiment_dir, item) for key, item in value.items()}
    if isinstance(value, list):
        return [within(experiment_dir, item) for item in value]
    if isinstance(value, str) and (value == experiment_dir or value.startswith(experiment_dir.rstrip("/") + "/")):
        return "$EXPERIMENT_DIR" + value[len(experiment_dir.rstrip("/")):]
    return value
