"""Running the docstring examples of a flambeau package as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import flambeau
from flambeau import _keywords

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
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _Finder().find(module, name):
        runner.run(test)
    failed = runner.summarize(verbose=False).failed
    assert failed == 0, f"{failed} docstring example(s) failed in {name}"


class _Finder(doctest.DocTestFinder):
    """doctest's finder, less the keyword layers (:mod:`flambeau._keywords`) that the public
    namespaces hold: they carry their op's docstring, whose examples run in the op's module."""

    def _from_module(self, module, object):  # noqa: A002 - doctest's name
        return not _keywords.is_layer(object) and super()._from_module(module, object)
