"""Every docstring example of flambeau-vision runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import flambeau
import flambeau.vision

# The VGG builders' examples each build a 130-million-parameter model (half a minute on a
# shared CPU); test_models builds every VGG and checks the same facts.
_SLOW = {"flambeau.vision.models._vgg"}
_MODULES = ["flambeau.vision"] + [
    info.name for info in pkgutil.walk_packages(flambeau.vision.__path__, "flambeau.vision.")
    if info.name not in _SLOW
]


@pytest.mark.parametrize("name", _MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    flambeau.manual_seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
