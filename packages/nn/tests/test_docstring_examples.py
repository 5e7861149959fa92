"""Every docstring example of flambeau-nn runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

# the examples show the printed output of CPU tensors (no device= in it)
pytestmark = pytest.mark.host_only


@pytest.mark.parametrize("name", docstring_modules("flambeau.nn"))
def test_examples(name):
    check_docstring_examples(name)
