"""How the experiment directory travels through the loader: stays, and climbs back up.

Traces every call of an extensions/ function that is handed the experiment directory, or a
path inside it, while `build_plan` plans an example. Consecutive calls in one module are one
stay. A stay in a planning module right after one in a reading module is a climb: the flow
went down to read and came back up to decide, which is what one-way flow avoids.

Usage: python bench/climbs.py [EXPERIMENT_DIR ...]   (default: both bundled examples)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extensions import plan  # noqa: E402

# The planning band decides; the reading band (the one reading step, each file kind's reader
# and what the readers share) opens files. A climb is a stay in the reading band followed by
# one in the planning band.
PLANNING = {"plan", "precedence", "contract", "placeholders", "resources", "sbatch", "protocol", "render"}
NEUTRAL = {"paths"}  # pure path arithmetic both bands use: no file is opened there


def stays(experiment_dir: Path) -> list[str]:
    """The modules the directory passes through, one entry per stay."""
    directory = str(experiment_dir)
    trail: list[str] = []

    def holds_directory(frame) -> bool:
        return any(str(value).startswith(directory) for value in frame.f_locals.values()
                   if isinstance(value, (str, Path)))

    def profile(frame, event, _arg):
        if event != "call" or "/extensions/" not in frame.f_code.co_filename:
            return
        module = Path(frame.f_code.co_filename).stem
        if module in NEUTRAL:
            return
        if holds_directory(frame) and (not trail or trail[-1] != module):
            trail.append(module)

    sys.setprofile(profile)
    try:
        plan.build_plan(experiment_dir)
    finally:
        sys.setprofile(None)
    return trail


def climbs(trail: list[str]) -> int:
    planning = [module in PLANNING for module in trail]
    return sum(1 for before, after in zip(planning, planning[1:]) if after and not before)


if __name__ == "__main__":
    directories = [Path(arg).resolve() for arg in sys.argv[1:]] or [
        ROOT / "examples/cap_1B_lora", ROOT / "examples/cap_1B_yaml"]
    for directory in directories:
        trail = stays(directory)
        print(f"{directory.name}: {len(trail)} stays, {climbs(trail)} climbs back up")
        print("  " + " > ".join(trail))
