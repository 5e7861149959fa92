"""Shape ops through the declarative harness (values, gradcheck, gradgradcheck, torch parity)."""

import numpy as np

import flambeau
from flambeau.testing._cases import SHAPE_CASES
from flambeau.testing._harness import op_tests

test_gradcheck, test_numpy_reference, test_parity = op_tests(SHAPE_CASES)


def test_diagonal_is_a_writable_view_like_torch():
    x = flambeau.zeros(3, 4)
    d = x.diagonal(1)
    d.fill_(2.0)
    np.testing.assert_array_equal(x.cpu().numpy(), np.eye(3, 4, 1) * 2)
    # an in-place write through either is seen by both
    assert d._version_counter is x._version_counter
    y = flambeau.arange(24.0).reshape(2, 3, 4).transpose(0, 2)  # a non-contiguous base
    for offset, d1, d2 in [(0, 1, 2), (2, 2, 1), (-1, 0, 2), (7, 1, 2), (-5, 0, 1)]:
        got = flambeau.diagonal(y, offset, d1, d2)
        np.testing.assert_array_equal(got.cpu().numpy(), np.diagonal(y.cpu().numpy(), offset, d1,
                                                                     d2))
    z = flambeau.ones(2, 2)
    z.diagonal().mul_(flambeau.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(z.cpu().numpy(), [[3.0, 1.0], [1.0, 4.0]])
