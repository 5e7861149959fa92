"""Every docstring example of the package runs (GPU-only lines are marked +SKIP)."""

import doctest
import importlib

import pytest

MODULES = ["flambeau_cuda", "flambeau_cuda._api", "flambeau_cuda._backend", "flambeau_cuda._cupy",
           "flambeau_cuda._memory", "flambeau_cuda._rng", "flambeau_cuda._settings",
           "flambeau_cuda._kernels", "flambeau_cuda._kernels._spec",
           "flambeau_cuda._kernels._linalg", "flambeau_cuda._kernels._scatter",
           "flambeau_cuda._kernels._loss", "flambeau_cuda._kernels._conv",
           "flambeau_cuda._kernels._optim"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
