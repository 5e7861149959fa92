"""The repository's third-party backend plugin: registration and the conformance suite.

Run by ``nox -s plugins`` after ``pip install packages/core/tests/plugins/flambeau-testplugin``.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import flambeau
from flambeau import testing
from flambeau.backends import plugin_of

pytest.importorskip("flambeau_testplugin")


def test_registered_through_its_entry_point():
    assert "testdev" in flambeau.backends.backend_names()
    assert plugin_of("testdev") == "testdev (flambeau-testplugin)"
    assert plugin_of("cpu") == "numpy (flambeau-core)"


@pytest.mark.parametrize("name", [n for n, _ in testing.conformance_checks()])
def test_conformance(name):
    checks = dict(testing.conformance_checks())
    checks[name](flambeau.device("testdev:1"))


def test_run_conformance_reports_no_failure():
    assert testing.run_conformance("testdev") == []


def test_mixing_devices_names_both():
    a = flambeau.ones(2, device="testdev:0")
    with pytest.raises(RuntimeError, match="testdev:0 and cpu"):
        a + flambeau.ones(2, device="cpu")


def test_disable_autoload_hides_third_party_plugins():
    code = "import flambeau; print(flambeau.backends.backend_names())"
    env = dict(os.environ, FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert "testdev" not in out and "cpu" in out


def test_copy_to_cpu_as_the_first_cpu_use_of_a_process():
    code = ("import flambeau; print(flambeau.ones(2, device='testdev').to('cpu').tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[1.0, 1.0]"


# ---------------------------------------------------------------- FLAMBEAU_TESTDEV_STRICT


@pytest.fixture
def strict():
    from flambeau_testplugin import TestDevBackend

    return TestDevBackend(strict=True)


def test_strict_is_opt_in_through_the_environment(monkeypatch):
    from flambeau_testplugin import TestDevBackend, strict_requested

    monkeypatch.delenv("FLAMBEAU_TESTDEV_STRICT", raising=False)
    assert not strict_requested() and TestDevBackend().xp is np
    monkeypatch.setenv("FLAMBEAU_TESTDEV_STRICT", "0")
    assert not strict_requested()
    monkeypatch.setenv("FLAMBEAU_TESTDEV_STRICT", "1")
    assert strict_requested() and TestDevBackend().xp is not np


def test_strict_conformance():
    code = ("import flambeau; from flambeau import testing; "
            "assert type(flambeau.ones(2, device='testdev')._data).__name__ == 'StrictArray'; "
            "print(testing.run_conformance('testdev'))")
    env = dict(os.environ, FLAMBEAU_TESTDEV_STRICT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_strict_device_ops_refuse_host_arrays_as_cupy(strict):
    xp = strict.xp
    d = strict.from_host(np.arange(3.0))
    host = np.ones(3)
    message = "Unsupported type <class 'numpy.ndarray'> .testdev strict: add of a device array"
    for op in (lambda: d + host, lambda: host + d, lambda: np.add(d, host),
               lambda: xp.add(d, host)):
        with pytest.raises(TypeError, match=message):
            op()
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'> .testdev "
                       "strict: concatenate of"):
        xp.concatenate([d, host])
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'> .testdev "
                       "strict: where of"):
        np.where(d > 0, d, host)
    with pytest.raises(TypeError, match=r"Unsupported type <class 'list'> \(testdev strict: "
                       "multiply takes device arrays and scalars only"):
        xp.multiply(d, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="operand type.s. all returned NotImplemented"):
        np.frompyfunc(abs, 1, 1)(d)  # not one of CuPy's ufuncs: CuPy declines it


def test_strict_allows_what_cupy_allows(strict):
    xp = strict.xp
    d = strict.from_host(np.arange(4.0))
    assert (d * np.float32(2) + 1).tolist() == [1.0, 3.0, 5.0, 7.0]
    assert d[np.array([3, 0])].tolist() == [3.0, 0.0]  # NumPy index arrays are converted
    d[np.array([1])] = np.array([9.0])  # and so are values through advanced indexing
    d[0] = np.float64(5.0)
    assert float(d.sum()) == 19.0 and int(d[1]) == 9 and d.max().item() == 9.0
    assert type(xp.asarray(np.ones(2))) is type(d)
    np.add.at(d, np.array([0, 0]), np.array([1.0, 1.0]))
    assert d.tolist() == [7.0, 9.0, 2.0, 3.0]


def test_strict_basic_assignment_of_a_host_array_is_cupys_fill_error(strict):
    d = strict.from_host(np.zeros(3))
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        d[:2] = np.ones(2)
    d[:] = np.array(2.0)  # a 0-d host array is a scalar to fill with
    assert d.tolist() == [2.0, 2.0, 2.0]


def test_strict_results_are_owning_device_arrays(strict):
    xp = strict.xp
    d = strict.from_host(np.arange(6.0))
    for result in (d + 1, xp.exp(d), d.sum(), d[2], xp.linalg.norm(d), list(d)[0]):
        assert type(result) is type(d) and result.base is None
    view = xp.reshape(d, (2, 3))
    assert type(view) is type(d) and view.base is d  # a view still views the device array
    assert np.add(d, 1, out=d) is d and xp.add(d, 1, out=d) is d
    assert xp.asarray(d) is d and xp.asarray(np.ones(2)).base is None  # a transfer copies
    assert type(strict.new_rng(0).random((2,), np.float32)) is type(d)


def test_strict_to_host_refuses_a_host_array_stored_as_device_data(strict):
    assert strict.to_host(strict.from_host(np.ones(2))).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="testdev strict: to_host got a host ndarray, not "
                       "device data"):
        strict.to_host(np.ones(2))
