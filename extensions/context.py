"""The Jinja extension Copier loads: the loader and formatting helpers, as globals and filters.

Copier imports this file by path, outside any package. It loads its own directory as a
package under a name unique to that directory: `copier update` renders the old and the new
template version in one process, and each must run its own code, not the first one imported.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from jinja2.ext import Extension

_HERE = Path(__file__).resolve().parent


def _own_package():
    name = "copier_inspect_slurm_" + hashlib.sha1(str(_HERE).encode()).hexdigest()[:12]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.jinja_api")


class PlanExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        api = _own_package()
        environment.globals.update(api.GLOBALS)
        environment.filters.update(api.FILTERS)
        api.say_no_tags_once()
