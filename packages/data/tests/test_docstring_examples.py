"""Every docstring example of flambeau-data runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

# the examples show the printed output of CPU tensors (no device= in it)
pytestmark = pytest.mark.host_only

MODULES = docstring_modules("flambeau.data") + docstring_modules("flambeau.utils")


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    check_docstring_examples(name)
