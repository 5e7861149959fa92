"""Every docstring example of flambeau-optim runs and prints what it shows."""

import pytest

from flambeau.testing import check_docstring_examples, docstring_modules

# the examples show the printed output of CPU tensors (no device= in it)
pytestmark = pytest.mark.host_only

try:
    import flambeau.nn  # noqa: F401
except ImportError:  # swa_utils needs flambeau-nn, an optional dependency
    SKIP = ("flambeau.optim.swa_utils", "flambeau.optim.swa_utils._averaged_model",
            "flambeau.optim.swa_utils._swalr")
else:
    SKIP = ()


@pytest.mark.parametrize("name", docstring_modules("flambeau.optim", skip=SKIP))
def test_examples(name):
    check_docstring_examples(name)
