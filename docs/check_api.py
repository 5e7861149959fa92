"""Check that every public name of flambeau is documented.

For every module of ``API_MODULES`` (docs/conf.py) that imports here, every name of its
``__all__`` must have a generated page under docs/api/generated (run sphinx-build first), a
docstring, and an ``Examples`` section in that docstring; so must the names a plugin adds to a
module (``PLUGIN_NAMES``: ``flambeau.cuda.Stream`` from flambeau-cuda) where it is installed.
Module-level constants of builtin types (``int``, ``str``, ...) and type aliases cannot carry a
docstring of their own and only need the page.

Exit status 1 lists the offenders; 0 when everything is documented.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import types
import typing
from pathlib import Path

DOCS = Path(__file__).resolve().parent
EXAMPLES = re.compile(r"^\s*Examples\s*\n\s*-{3,}\s*$", re.MULTILINE)
BUILTIN_DATA = (bool, int, float, complex, str, bytes, tuple, list, dict, frozenset, set)
# type aliases (``flambeau.types.Number = int | float | bool``) cannot carry a docstring either
TYPE_ALIASES = (types.UnionType, type(typing.Union[int, str]))


def load_conf():
    spec = importlib.util.spec_from_file_location("flambeau_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf


def problems_of(qualname: str, obj, generated: Path) -> list[str]:
    found = []
    if not (generated / f"{qualname}.rst").is_file():
        found.append("no generated page")
    if isinstance(obj, BUILTIN_DATA + TYPE_ALIASES) or obj is None:
        return found
    doc = inspect.getdoc(obj)
    if not doc:
        found.append("no docstring")
    elif not EXAMPLES.search(doc):
        found.append("no Examples section")
    return found


def main() -> int:
    conf = load_conf()
    checked, offenders = 0, []
    modules = conf.importable_modules()
    for page, name in conf.API_MODULES.items():
        if page not in modules:
            print(f"skipped {name}: not importable here")
            continue
        module = modules[page]
        if name in conf.PLUGIN_NAMES and importlib.util.find_spec(
                conf.PLUGIN_NAMES[name][0].split(".")[0]) is None:
            print(f"skipped {name}'s names from {conf.PLUGIN_NAMES[name][1]}: not installed here")
        for public in conf.documented_names(module):
            qualname = f"{name}.{public}"
            if not hasattr(module, public):
                offenders.append(f"{qualname}: listed in __all__ but not defined")
                continue
            checked += 1
            for problem in problems_of(qualname, getattr(module, public), conf.GENERATED):
                offenders.append(f"{qualname}: {problem}")
    if offenders:
        print(f"{len(offenders)} problem(s) in the public API documentation:")
        print("\n".join(f"  {line}" for line in offenders))
        return 1
    print(f"check_api: {checked} public names documented, each with an example")
    return 0


if __name__ == "__main__":
    sys.exit(main())
