"""Every docstring example of flambeau-vision runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

# the examples show the printed output of CPU tensors (no device= in it)
pytestmark = pytest.mark.host_only

# The VGG builders' examples each build a 130-million-parameter model (half a minute on a
# shared CPU); test_models builds every VGG and checks the same facts.
_MODULES = docstring_modules("flambeau.vision", skip={"flambeau.vision.models._vgg"})


@pytest.mark.parametrize("name", _MODULES)
def test_examples(name):
    check_docstring_examples(name)
