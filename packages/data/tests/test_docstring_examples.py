"""Every docstring example of flambeau-data runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules


@pytest.mark.parametrize("name", docstring_modules("flambeau.data"))
def test_examples(name):
    check_docstring_examples(name)
