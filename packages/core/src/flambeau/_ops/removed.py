"""Linear algebra functions torch removed in 1.9 and still keeps as stubs that raise.

``torch.lstsq``, ``torch.solve``, ``torch.eig``, ``torch.symeig``, ``torch.matrix_rank``
(and the Tensor methods ``lstsq``, ``solve``, ``eig``, ``symeig``) raise a ``RuntimeError``
that says what replaced them in ``torch.linalg`` and how the call changes (reversed
arguments, complex eigenvalues, the lower triangle by default). Ported old code gets the same
guidance here, naming flambeau's functions.
"""

from __future__ import annotations

__all__ = ["eig", "lstsq", "matrix_rank", "solve", "symeig"]

_REMOVED = "This function was deprecated since version 1.9 and is now removed."


def lstsq(input, A, *, out=None):
    """Removed (as ``torch.lstsq``): raises, pointing to :func:`flambeau.linalg.lstsq`.

    ``flambeau.linalg.lstsq(A, B)`` takes its arguments in the other order and returns the
    solution in its ``solution`` field (the residuals in ``residuals``).

    Examples
    --------
    >>> import flambeau
    >>> A, B = flambeau.eye(2), flambeau.ones(2, 1)
    >>> flambeau.lstsq(B, A)
    Traceback (most recent call last):
        ...
    RuntimeError: This function was deprecated since version 1.9 and is now removed. ...
    >>> flambeau.linalg.lstsq(A, B).solution
    tensor([[1.],
            [1.]])
    """
    raise RuntimeError(
        f"{_REMOVED} `flambeau.lstsq` is deprecated in favor of `flambeau.linalg.lstsq`.\n"
        "`flambeau.linalg.lstsq` has reversed arguments and does not return the QR "
        "decomposition in the returned tuple (although it returns other information about "
        "the problem).\n\nTo get the QR decomposition consider using `flambeau.linalg.qr`.\n\n"
        "The returned solution in `flambeau.lstsq` stored the residuals of the solution in "
        "the last m - n columns of the returned value whenever m > n. In "
        "flambeau.linalg.lstsq, the residuals are in the field 'residuals' of the returned "
        "named tuple.\n\nThe unpacking of the solution, as in\n"
        "X, _ = flambeau.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\n"
        "X = flambeau.linalg.lstsq(A, B).solution")


def solve(input, A, *, out=None):
    """Removed (as ``torch.solve``): raises, pointing to :func:`flambeau.linalg.solve`.

    ``flambeau.linalg.solve(A, B)`` takes its arguments in the other order and returns only
    the solution; :func:`flambeau.linalg.lu_factor` gives the LU factorization.

    Examples
    --------
    >>> import flambeau
    >>> A, B = 2 * flambeau.eye(2), flambeau.ones(2, 1)
    >>> flambeau.solve(B, A)
    Traceback (most recent call last):
        ...
    RuntimeError: This function was deprecated since version 1.9 and is now removed. ...
    >>> flambeau.linalg.solve(A, B)
    tensor([[0.5000],
            [0.5000]])
    """
    raise RuntimeError(
        f"{_REMOVED} `flambeau.solve` is deprecated in favor of `flambeau.linalg.solve`. "
        "`flambeau.linalg.solve` has its arguments reversed and does not return the LU "
        "factorization.\n\nTo get the LU factorization see `flambeau.linalg.lu_factor`, "
        "which can be used with `flambeau.linalg.lu_solve` or `flambeau.lu_unpack`.\n"
        "X = flambeau.solve(B, A).solution should be replaced with:\n"
        "X = flambeau.linalg.solve(A, B)")


def eig(self, eigenvectors=False, *, e=None, v=None):
    """Removed (as ``torch.eig``): raises, pointing to :func:`flambeau.linalg.eig` and
    :func:`flambeau.linalg.eigvals`, which return complex tensors.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[2.0, 0.0], [0.0, 3.0]])
    >>> flambeau.eig(A)
    Traceback (most recent call last):
        ...
    RuntimeError: This function was deprecated since version 1.9 and is now removed. ...
    >>> flambeau.linalg.eigvals(A)
    tensor([2.+0.j, 3.+0.j])
    """
    raise RuntimeError(
        f"{_REMOVED} `flambeau.linalg.eig` returns complex tensors of dtype `cfloat` or "
        "`cdouble` rather than real tensors mimicking complex tensors.\n\n"
        "L, _ = flambeau.eig(A) should be replaced with:\n"
        "L_complex = flambeau.linalg.eigvals(A)\n\nand\n\n"
        "L, V = flambeau.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = flambeau.linalg.eig(A)")


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    """Removed (as ``torch.symeig``): raises, pointing to :func:`flambeau.linalg.eigh` and
    :func:`flambeau.linalg.eigvalsh`, which read the lower triangle by default
    (``UPLO='U'`` for the upper one that ``symeig`` read).

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[2.0, 1.0], [1.0, 2.0]])
    >>> flambeau.symeig(A)
    Traceback (most recent call last):
        ...
    RuntimeError: This function was deprecated since version 1.9 and is now removed. ...
    >>> flambeau.linalg.eigvalsh(A, UPLO="U")
    tensor([1., 3.])
    """
    raise RuntimeError(
        f"{_REMOVED} The default behavior has changed from using the upper triangular portion "
        "of the matrix by default to using the lower triangular portion.\n\n"
        "L, _ = flambeau.symeig(A, upper=upper) should be replaced with:\n"
        "L = flambeau.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\n"
        "L, V = flambeau.symeig(A, eigenvectors=True) should be replaced with:\n"
        "L, V = flambeau.linalg.eigh(A, UPLO='U' if upper else 'L')")


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed (as ``torch.matrix_rank``): raises, pointing to
    :func:`flambeau.linalg.matrix_rank` (whose ``symmetric`` is now ``hermitian``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.matrix_rank(flambeau.eye(3))
    Traceback (most recent call last):
        ...
    RuntimeError: This function was deprecated since version 1.9 and is now removed. ...
    >>> flambeau.linalg.matrix_rank(flambeau.eye(3))
    tensor(3)
    """
    raise RuntimeError(
        f"{_REMOVED}\nPlease use the `flambeau.linalg.matrix_rank` function instead. The "
        "parameter 'symmetric' was renamed in `flambeau.linalg.matrix_rank()` to 'hermitian'.")


# Tensor methods, with torch's method signatures (``other``, no ``upper``)


def lstsq_method(self, other):
    """``Tensor.lstsq``: removed, raises as :func:`lstsq`."""
    return lstsq(self, other)


def solve_method(self, other):
    """``Tensor.solve``: removed, raises as :func:`solve`."""
    return solve(self, other)


def eig_method(self, eigenvectors=False):
    """``Tensor.eig``: removed, raises as :func:`eig`."""
    return eig(self, eigenvectors)


def symeig_method(self, eigenvectors=False):
    """``Tensor.symeig``: removed, raises as :func:`symeig`."""
    return symeig(self, eigenvectors)
