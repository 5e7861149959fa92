"""flambeau.types (torch.types' aliases), the has_* build flags and is_distributed."""

import os

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
if torch is not None:
    import torch.types  # noqa: F401 - a submodule torch does not import itself


def test_types_module_has_torch_s_public_names():
    import flambeau.types as types

    assert types.__all__ == ["Number", "Device", "FileLike", "Storage"]
    if torch is not None:
        assert sorted(torch.types.__all__) == sorted(types.__all__)
    for value in (1, 2.5, True):
        assert isinstance(value, types.Number)
    assert not isinstance("1", types.Number)
    for value in ("cpu", 0, None, flambeau.device("cpu")):
        assert isinstance(value, types.Device)
    assert not isinstance(1.5, types.Device)
    assert os.PathLike in types.FileLike.__args__ and str in types.FileLike.__args__
    assert isinstance(flambeau.UntypedStorage(1), types.Storage)
    assert isinstance(flambeau.FloatStorage(1), types.Storage)
    assert (types.IntLikeType, types.FloatLikeType, types.BoolLikeType) == (int, float, bool)
    assert types.Tensor is flambeau.Tensor and types.Size is flambeau.Size


def test_build_flags_tell_the_truth_about_numpy():
    import numpy as np

    assert flambeau.has_lapack is True  # numpy.linalg always has LAPACK
    assert np.linalg.inv(np.eye(2)).shape == (2, 2)
    assert flambeau.has_spectral is True and callable(flambeau.fft.fft)
    assert isinstance(flambeau.has_mkl, bool) and isinstance(flambeau.has_openmp, bool)
    from flambeau._build_flags import _numpy_build

    assert flambeau.has_mkl == ("mkl" in _numpy_build())
    # what decides is the library and its build line, never a directory's name
    openblas = {"name": "scipy-openblas", "lib directory": "/opt/mkl-tools/openmp/lib",
                "openblas configuration": "openblas 0.3.31 dynamic_arch max_threads=64"}
    build = _numpy_build({"Build Dependencies": {"blas": openblas, "lapack": openblas}})
    assert "mkl" not in build and "openmp" not in build and "openblas" in build
    mkl = {"name": "mkl-sdl", "lib directory": "/usr/lib"}
    assert "mkl" in _numpy_build({"Build Dependencies": {"blas": mkl, "lapack": mkl}})
    assert _numpy_build({}) == ""
    if torch is not None:  # torch's CPU build answers the same names with bools
        assert all(isinstance(getattr(torch, n), bool)
                   for n in ("has_lapack", "has_mkl", "has_openmp", "has_spectral"))


def test_is_distributed_matches_torch():
    assert flambeau.is_distributed(flambeau.zeros(2)) is False
    if torch is not None:
        assert torch.is_distributed(torch.zeros(2)) is False
    with pytest.raises(TypeError, match=r"is_distributed\(\): argument 'input' \(position 1\) "
                                        r"must be Tensor, not int"):
        flambeau.is_distributed(1)
