"""Subpackages of other distributions: reached as attributes, or a message naming the wheel."""

import importlib
import importlib.util
import sys

import pytest

import flambeau
from flambeau import _subpackages


@pytest.fixture
def fake_provider(monkeypatch):
    monkeypatch.setitem(_subpackages.PROVIDERS, "flambeau.nosuchpkg", "flambeau-nosuchpkg")


def test_missing_distribution_is_an_attribute_error_naming_it(fake_provider):
    with pytest.raises(AttributeError, match=r"flambeau.nosuchpkg is provided by "
                                             r"flambeau-nosuchpkg: pip install flambeau-nosuchpkg"):
        flambeau.nosuchpkg  # noqa: B018
    assert not hasattr(flambeau, "nosuchpkg")


def test_import_statement_names_the_distribution(fake_provider):
    with pytest.raises(ModuleNotFoundError, match="pip install flambeau-nosuchpkg"):
        importlib.import_module("flambeau.nosuchpkg.sub")


def test_find_spec_answers_none_for_a_missing_distribution(fake_provider):
    # the usual probe for an optional package must not raise
    assert importlib.util.find_spec("flambeau.nosuchpkg") is None
    with pytest.raises(ModuleNotFoundError, match="pip install flambeau-nosuchpkg"):
        import flambeau.nosuchpkg  # noqa: F401


def test_unknown_attribute_is_the_usual_error():
    with pytest.raises(AttributeError, match="module 'flambeau' has no attribute 'nosuchname'$"):
        flambeau.nosuchname  # noqa: B018


@pytest.mark.parametrize("full", sorted(_subpackages.PROVIDERS))
def test_each_subpackage_is_its_module_or_says_what_to_install(full):
    name = full.removeprefix("flambeau.")
    try:
        module = importlib.import_module(full)
    except ModuleNotFoundError as e:
        assert e.name == full
        with pytest.raises(AttributeError, match=f"pip install {_subpackages.PROVIDERS[full]}"):
            getattr(flambeau, name)
    else:
        assert getattr(flambeau, name) is module


def test_a_subpackage_that_fails_to_import_raises_its_own_error(tmp_path, monkeypatch):
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("raise ImportError('boom inside')\n")
    monkeypatch.setattr(flambeau, "__path__", [*flambeau.__path__, str(tmp_path)])
    monkeypatch.setitem(_subpackages.PROVIDERS, "flambeau.brokenpkg", "flambeau-brokenpkg")
    try:
        with pytest.raises(ImportError, match="boom inside"):
            flambeau.brokenpkg  # noqa: B018
    finally:
        sys.modules.pop("flambeau.brokenpkg", None)


def test_a_missing_toplevel_provider_is_an_attribute_error_naming_it(fake_provider, monkeypatch):
    monkeypatch.setitem(_subpackages.TOPLEVEL, "flambeau.nosuchpkg._toplevel",
                        frozenset({"nosuchfn"}))
    message = (r"module 'flambeau' has no attribute 'nosuchfn': flambeau.nosuchfn is provided "
               r"by flambeau-nosuchpkg: pip install flambeau-nosuchpkg$")
    with pytest.raises(AttributeError, match=message):
        flambeau.nosuchfn  # noqa: B018
    assert not hasattr(flambeau, "nosuchfn")


def test_nn_toplevel_names_say_to_install_flambeau_nn_when_it_is_missing(monkeypatch):
    # None in sys.modules is how import machinery spells "not installed" for one name
    monkeypatch.setitem(sys.modules, "flambeau.nn", None)
    monkeypatch.setitem(sys.modules, "flambeau.nn._toplevel", None)
    monkeypatch.delattr(flambeau, "conv2d", raising=False)  # a value cached by an earlier use
    with pytest.raises(AttributeError, match=r"flambeau.conv2d is provided by flambeau-nn: "
                                             r"pip install flambeau-nn"):
        flambeau.conv2d  # noqa: B018
    monkeypatch.delattr(flambeau, "batch_norm", raising=False)
    assert not hasattr(flambeau, "batch_norm")


def test_toplevel_names_are_the_function_or_say_what_to_install():
    try:
        module = importlib.import_module("flambeau.nn._toplevel")
    except ModuleNotFoundError:
        with pytest.raises(AttributeError, match="pip install flambeau-nn"):
            flambeau.conv2d  # noqa: B018
    else:
        assert flambeau.conv2d is module.conv2d
        assert vars(flambeau)["conv2d"] is module.conv2d  # later reads are plain attributes


def test_toplevel_names_do_not_shadow_core():
    # core's own names win over the module __getattr__: a name in both would never be reached
    for names in _subpackages.TOPLEVEL.values():
        assert not names & set(flambeau.__all__)


@pytest.mark.parametrize("name", sorted(_subpackages.CORE_ON_ACCESS))
def test_core_subpackages_are_reached_after_a_bare_import(name):
    # as torch.distributions after `import torch`: a fresh interpreter, no explicit import
    import subprocess

    code = (f"import sys, flambeau; assert 'flambeau.{name}' not in sys.modules; "
            f"m = flambeau.{name}; print(m.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == f"flambeau.{name}"
