"""Linalg ops through the declarative harness (values, gradcheck, gradgradcheck, torch parity)."""

from flambeau.testing._cases import LINALG_CASES
from flambeau.testing._harness import op_tests

test_gradcheck, test_numpy_reference, test_parity = op_tests(LINALG_CASES)
