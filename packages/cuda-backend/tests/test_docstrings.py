"""Every docstring example of the package runs (GPU-only lines are marked +SKIP)."""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import flambeau
import flambeau_cuda
from flambeau_cuda import _api

#: every module of the package, found rather than listed (a list missed new kernel modules)
MODULES = ["flambeau_cuda"] + [m.name for m in pkgutil.walk_packages(
    flambeau_cuda.__path__, "flambeau_cuda.")]


def test_the_kernel_modules_are_found():
    assert {"flambeau_cuda._kernels._multi", "flambeau_cuda._kernels._norm",
            "flambeau_cuda._kernels._cudnn", "flambeau_cuda._api"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_names_flambeau_cuda_forwards_here_have_examples():
    """``flambeau.cuda.Stream``, ``.synchronize``... are the plugin's objects, and their API
    pages (docs/conf.py's PLUGIN_NAMES) show these docstrings: each needs an Examples section."""
    forwarded = [n for n in _api.__all__ if n not in flambeau.cuda.__all__]
    assert {"Stream", "Event", "ExternalStream", "synchronize", "current_stream"} <= set(
        forwarded)
    sections = re.compile(r"^Examples\n-{3,}$", re.MULTILINE)
    for name in forwarded:
        assert getattr(flambeau.cuda, name) is getattr(_api, name)
        assert sections.search(inspect.getdoc(getattr(_api, name)) or ""), name
