"""Every docstring example of the package runs (GPU-only lines are marked +SKIP)."""

import doctest
import importlib
import pkgutil

import pytest

import flambeau_cuda

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
