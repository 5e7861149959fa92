"""The repository's third-party backend plugin: registration and the conformance suite.

Run by ``nox -s plugins`` after ``pip install packages/core/tests/plugins/flambeau-testplugin``.
"""

import os
import subprocess
import sys

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
