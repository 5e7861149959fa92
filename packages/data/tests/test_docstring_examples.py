"""Every docstring example of flambeau-data runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

MODULES = docstring_modules("flambeau.data") + docstring_modules("flambeau.utils")


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    check_docstring_examples(name)
