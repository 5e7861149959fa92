"""torch's removed linear algebra functions (lstsq, solve, eig, symeig, matrix_rank and the
Tensor methods lstsq, solve, eig, symeig): they raise torch's RuntimeError, naming the
linalg replacement, whatever the arguments."""

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

A = [[2.0, 1.0], [1.0, 2.0]]

CALLS = {
    "lstsq": (lambda m, a: m.lstsq(a, a), lambda a: a.lstsq(a), "`flambeau.linalg.lstsq`"),
    "solve": (lambda m, a: m.solve(a, a), lambda a: a.solve(a), "`flambeau.linalg.solve`"),
    "eig": (lambda m, a: m.eig(a, eigenvectors=True), lambda a: a.eig(),
            "flambeau.linalg.eigvals(A)"),
    "symeig": (lambda m, a: m.symeig(a, True, upper=False), lambda a: a.symeig(True),
               "flambeau.linalg.eigh(A, UPLO='U' if upper else 'L')"),
    "matrix_rank": (lambda m, a: m.matrix_rank(a, symmetric=True), None,
                    "`flambeau.linalg.matrix_rank` function instead"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_removed_functions_raise_with_the_replacement(name):
    function, method, replacement = CALLS[name]
    start = r"^This function was deprecated since version 1.9 and is now removed\."
    with pytest.raises(RuntimeError, match=start) as info:
        function(flambeau, flambeau.tensor(A))
    assert replacement in str(info.value) and "torch" not in str(info.value)
    if method is None:
        assert not hasattr(flambeau.Tensor, name)  # as torch.Tensor, which has none
        return
    with pytest.raises(RuntimeError, match=start) as info_method:
        method(flambeau.tensor(A))
    assert str(info_method.value) == str(info.value)


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(CALLS))
def test_removed_functions_parity_with_torch(name):
    """The same exception type, and torch's message with flambeau's names."""
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    function, method, _ = CALLS[name]
    with pytest.raises(RuntimeError) as ours:
        function(flambeau, flambeau.tensor(A))
    with pytest.raises(RuntimeError) as theirs:
        function(torch, torch.tensor(A))
    want = str(theirs.value).replace("torch.lu`", "flambeau.linalg.lu_factor`").replace(
        "torch.lu_unpack", "flambeau.lu_unpack").replace("torch.lu_solve",
                                                         "flambeau.linalg.lu_solve")
    assert str(ours.value) == want.replace("torch", "flambeau")
    assert hasattr(torch.Tensor, name) == (method is not None) == hasattr(flambeau.Tensor, name)
