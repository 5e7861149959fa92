"""Every docstring example of flambeau-core runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import flambeau

_SKIP = {"flambeau.cuda"}  # its examples depend on whether a GPU plugin is installed


def _core_modules():
    names = ["flambeau"]
    for info in pkgutil.walk_packages(flambeau.__path__[:1], "flambeau."):
        top = ".".join(info.name.split(".")[:2])
        if top in ("flambeau.nn", "flambeau.optim", "flambeau.data", "flambeau.vision",
                   "flambeau.distributed"):
            continue  # other distributions test their own examples
        names.append(info.name)
    return [n for n in names if n not in _SKIP]


@pytest.mark.parametrize("name", _core_modules())
def test_examples(name):
    module = importlib.import_module(name)
    flambeau.manual_seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
