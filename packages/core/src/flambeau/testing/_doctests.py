"""Running the docstring examples of a flambeau package as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import flambeau

__all__ = ["check_docstring_examples", "docstring_modules"]


def docstring_modules(package, skip=()):
    """The names of ``package`` and its submodules, less those in ``skip``.

    Parameters
    ----------
    package : str
        A package name, such as ``"flambeau.nn"``.
    skip : collection of str
        Module names to leave out (slow or environment-dependent examples).

    Examples
    --------
    >>> from flambeau.testing import docstring_modules
    >>> "flambeau.testing._doctests" in docstring_modules("flambeau.testing")
    True
    """
    root = importlib.import_module(package)
    names = [package] + [info.name for info in
                         pkgutil.walk_packages(root.__path__, package + ".")]
    return [n for n in names if n not in skip]


def check_docstring_examples(name):
    """Run the docstring examples of module ``name`` (seeded); AssertionError if one fails.

    Examples
    --------
    >>> from flambeau.testing import check_docstring_examples
    >>> check_docstring_examples("flambeau.testing._doctests")  # doctest: +SKIP
    """
    module = importlib.import_module(name)
    flambeau.manual_seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
