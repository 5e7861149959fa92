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
