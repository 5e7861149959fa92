"""Every docstring example of flambeau-core runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

# the examples print CPU tensors (a tensor on another device shows ``device=...``)
pytestmark = pytest.mark.host_only

# other distributions test their own examples; flambeau.cuda's run with or without a GPU
_OTHERS = ("flambeau.nn", "flambeau.optim", "flambeau.data", "flambeau.vision",
           "flambeau.distributed")
_MODULES = [n for n in docstring_modules("flambeau") if not n.startswith(_OTHERS)]


@pytest.mark.parametrize("name", _MODULES)
def test_examples(name):
    check_docstring_examples(name)
