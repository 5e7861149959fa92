"""The dtype an ``out=`` of a linear-algebra op must have, as torch 2.13 decides per op: most
(``linalg.qr``, ``svd``, ``slogdet``, ``inv``, ``solve``, the norms, ``matmul``, ``mm``,
``addmm``, the LU and LDL factorizations, their int32 pivots and infos...) take only the
result's dtype, where flambeau cast into a wider out; the others (``pinv``, ``cond``,
``householder_product``, ``tensorinv``, ``tensorsolve``, ``matrix_rank``, ``eig``, ``outer``,
``kron``, ``cholesky``...) cast where no kind is lost. ``linalg.lstsq`` depends on its driver.
"""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity


def _operands(lib):
    g = np.random.default_rng(0)

    def r(*shape):
        return lib.tensor(g.standard_normal(shape).astype(np.float32))

    A = r(3, 3)
    A = A @ A.mT + 3 * lib.eye(3)
    LU, piv = lib.linalg.lu_factor(A)
    LD, lpiv = lib.linalg.ldl_factor(A)
    return {"L": lib.linalg, "lib": lib, "A": A, "B": r(3, 2), "v": r(3), "T": r(2, 3, 3),
            "W": r(5, 3), "C": r(5, 2), "LU": LU, "piv": piv, "LD": LD, "lpiv": lpiv,
            "H": r(2, 2, 2, 2), "S": r(2, 2, 4)}


_CALLS = [
    "L.qr(A)", "L.svd(A)", "L.slogdet(A)", "L.eigh(A)", "L.eigvalsh(A)", "L.svdvals(A)",
    "L.det(A)", "L.inv(A)", "L.inv_ex(A)", "L.solve(A, B)", "L.solve_ex(A, B)",
    "L.cholesky(A)", "L.cholesky_ex(A)", "L.solve_triangular(A, B, upper=True)",
    "L.matrix_power(A, 2)", "L.multi_dot([A, A])", "L.cross(A, A)", "L.vecdot(A, A)",
    "L.vector_norm(A)", "L.matrix_norm(A)", "L.norm(A)", "L.lu_factor(A)", "L.lu_factor_ex(A)",
    "L.lu(A)", "L.lu_solve(LU, piv, B)", "L.ldl_factor(A)", "L.ldl_factor_ex(A)",
    "L.ldl_solve(LD, lpiv, B)", "L.matmul(A, A)",
    "L.pinv(A)", "L.cond(A)", "L.householder_product(A, v)", "L.matrix_rank(A)",
    "L.tensorinv(H)", "L.tensorsolve(S, lib.ones(2, 2))", "L.eig(A)", "L.eigvals(A)",
    "lib.inverse(A)", "lib.matmul(A, A)", "lib.mm(A, A)", "lib.bmm(T, T)", "lib.mv(A, v)",
    "lib.dot(v, v)", "lib.vdot(v, v)", "lib.inner(A, A)", "lib.cross(A, A)",
    "lib.matrix_power(A, 2)", "lib.lu_solve(B, LU, piv)", "lib.lu_unpack(LU, piv)",
    "lib.ormqr(A, v, B)", "lib.tensordot(A, A)", "lib.addmm(A, A, A)", "lib.addmv(v, A, v)",
    "lib.baddbmm(T, T, T)", "lib.addbmm(A, T, T)", "lib.chain_matmul(A, A)", "lib.qr(A)",
    "lib.svd(A)", "lib.slogdet(A)", "lib.triangular_solve(B, A)", "lib.outer(v, v)",
    "lib.kron(A, A)", "lib.addr(A, v, v)", "lib.cholesky(A)", "lib.cholesky_solve(B, A)",
    "lib.orgqr(A, v)", "lib.geqrf(A)", "lib.diag(A)", "lib.diag(v)",
]


def _outcome(lib, call, index, dtype):
    """'ok' or the error's type, for ``call`` with every out of its result's dtype but the
    ``index``-th, of ``dtype`` (the same kind made wider, narrower, or another kind)."""
    ns = _operands(lib)
    results = eval(call, ns)
    many = isinstance(results, tuple)
    results = results if many else (results,)
    r = results[index]
    if dtype == "wider":
        dt = {"float32": "float64", "complex64": "complex128", "int32": "int64",
              "int64": "int64"}[str(r.dtype).split(".")[-1]]
    elif dtype == "narrower":
        dt = {"float32": "float16", "complex64": "complex64", "int32": "int16",
              "int64": "int32"}[str(r.dtype).split(".")[-1]]
    else:
        dt = "float64" if not r.dtype.is_floating_point else "int64"
    outs = [lib.empty(0, dtype=x.dtype) for x in results]
    outs[index] = lib.empty(0, dtype=getattr(lib, dt))
    head, _, tail = call.rpartition(")")
    ns["out"] = tuple(outs) if many else outs[0]
    try:
        eval(head + ", out=out)" + tail, ns)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return type(exc).__name__
    return "ok"


def _cases():
    for call in _CALLS:
        results = eval(call, _operands(torch))
        for index in range(len(results) if isinstance(results, tuple) else 1):
            for dtype in ("wider", "narrower", "other kind"):
                yield pytest.param(call, index, dtype, id=f"{call}-{index}-{dtype}")


@pytest.mark.parametrize("call, index, dtype", list(_cases()))
def test_out_dtype_rule_as_torch(call, index, dtype):
    assert _outcome(flambeau, call, index, dtype) == _outcome(torch, call, index, dtype)


@pytest.mark.parametrize("driver", ["gelsd", "gelsy", "gelss", "gels", None])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_lstsq_out_dtypes_as_torch(driver, shape, index):
    # torch wants the residuals' dtype when it computes them, and the rank's and singular
    # values' when it does not (their outs stay empty)
    if driver == "gels" and shape == (3, 5):
        pytest.skip("torch's gels needs a full-rank tall or square A")
    got = []
    for lib in (flambeau, torch):
        g = np.random.default_rng(1)
        A = lib.tensor(g.standard_normal(shape).astype(np.float32))
        B = lib.tensor(g.standard_normal((shape[0], 2)).astype(np.float32))
        results = lib.linalg.lstsq(A, B, driver=driver)
        outs = [lib.empty(0, dtype=r.dtype) for r in results]
        outs[index] = lib.empty(0, dtype=lib.float64)
        try:
            lib.linalg.lstsq(A, B, driver=driver, out=tuple(outs))
            got.append("ok")
        except RuntimeError:
            got.append("RuntimeError")
    assert got[0] == got[1]


def test_exact_out_error_names_the_op_and_both_dtypes():
    A = flambeau.eye(3)
    with pytest.raises(RuntimeError, match=r"mm\(\): expected out tensor to have dtype "
                                           r"flambeau.float32, but got flambeau.float64 instead"):
        flambeau.mm(A, A, out=flambeau.empty(0, dtype=flambeau.float64))
    out = flambeau.full((3, 3), 7.0)
    with pytest.raises(RuntimeError, match=r"qr\(\): expected out tensor"):
        flambeau.linalg.qr(A, out=(out, flambeau.empty(0, dtype=flambeau.float64)))
    np.testing.assert_array_equal(out.cpu().numpy(), np.full((3, 3), 7.0))  # left unchanged
