"""Declarative op cases: what an op is, which inputs to try, and what to compare it with.

An :class:`OpCase` names one op, its flambeau callable, the same op in PyTorch (or a NumPy
reference) and a function that draws sample arguments. :mod:`flambeau.testing._harness` runs
a case on a device: forward values, result dtype and shape, ``gradcheck`` /
``gradgradcheck`` in float64, and gradient parity with PyTorch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

__all__ = ["OpCase", "Sample", "nograd", "both", "DEFAULT_TOLERANCES"]

#: (atol, rtol) per dtype name for forward values and first-order gradients
DEFAULT_TOLERANCES = {
    "float64": (1e-9, 1e-7),
    "float32": (1e-5, 1e-4),
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
}


class Sample:
    """The arguments of one call of an op.

    NumPy arrays among ``args``/``kwargs`` (also inside lists and tuples) become tensors on
    the device under test; floating-point arrays require grad when the case is
    differentiable, unless wrapped in :func:`nograd`. Anything else is passed as is.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import Sample
    >>> s = Sample(np.ones(3), dim=0)
    >>> len(s.args), s.kwargs
    (1, {'dim': 0})
    """

    __slots__ = ("args", "kwargs")

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        def short(v):
            if isinstance(v, np.ndarray):
                return f"array{v.shape}:{v.dtype}"
            if isinstance(v, _NoGrad):
                return "nograd(" + short(v.array) + ")"
            if isinstance(v, (list, tuple)):
                return type(v)(short(x) for x in v)
            return v

        parts = [repr(short(a)) for a in self.args]
        parts += [f"{k}={short(v)!r}" for k, v in self.kwargs.items()]
        return "Sample(" + ", ".join(parts) + ")"


class _NoGrad:
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = np.asarray(array)


def nograd(array):
    """Mark a floating-point sample array as an input that never requires grad.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import nograd
    >>> nograd(np.zeros(2)).array.shape
    (2,)
    """
    return _NoGrad(array)


class _OnModule:
    """``f(module, *args)`` bound to flambeau or to torch (imported at call time)."""

    __slots__ = ("f", "module_name")

    def __init__(self, f, module_name):
        self.f = f
        self.module_name = module_name

    def __call__(self, *args, **kwargs):
        import importlib

        return self.f(importlib.import_module(self.module_name), *args, **kwargs)


def both(f):
    """``(fn, torch_fn)`` from one ``f(lib, *args)`` written against the shared API.

    Examples
    --------
    >>> import numpy as np
    >>> import flambeau
    >>> from flambeau.testing._cases import both
    >>> fn, torch_fn = both(lambda lib, x: lib.sin(x))
    >>> fn(flambeau.zeros(2))
    tensor([0., 0.])
    """
    return _OnModule(f, "flambeau"), _OnModule(f, "torch")


@dataclasses.dataclass(frozen=True)
class OpCase:
    """One op under test.

    Parameters
    ----------
    name : str
        Test id (the op's name plus a variant).
    fn : callable
        The flambeau op, called with the sample's arguments.
    torch_fn : callable or None
        The same op in PyTorch, called with torch tensors (None: no torch counterpart).
    inputs : callable
        ``inputs(rng, np_dtype)`` returning a list of :class:`Sample` (or argument tuples);
        use several shapes including broadcasting and 0-d, and keep them tiny: gradcheck
        costs grow with the square of the number of elements.
    differentiable : bool
        Whether to check gradients (gradcheck, gradgradcheck, parity).
    dtypes : tuple of str
        The dtypes ``inputs`` is called with for forward checks.
    tolerances : dict
        ``{dtype_name: (atol, rtol)}`` overriding :data:`DEFAULT_TOLERANCES`.
    skip_gradgrad : bool
        Skip ``gradgradcheck`` (ops whose second derivative is not smooth at the samples).
    numpy_ref : callable or None
        ``numpy_ref(*arrays)`` giving the expected values when torch is not importable.
    check_dtype : bool
        Compare the result dtype with torch's.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, Sample, both
    >>> case = OpCase("sin", *both(lambda lib, x: lib.sin(x)),
    ...               inputs=lambda rng, dt: [Sample(rng.standard_normal(3).astype(dt))],
    ...               numpy_ref=np.sin)
    >>> case.tolerance("float64")
    (1e-09, 1e-07)
    """

    name: str
    fn: Callable
    torch_fn: Callable | None
    inputs: Callable[[np.random.Generator, Any], list]
    differentiable: bool = True
    dtypes: tuple = ("float64", "float32")
    tolerances: dict = dataclasses.field(default_factory=dict)
    skip_gradgrad: bool = False
    numpy_ref: Callable | None = None
    check_dtype: bool = True

    def tolerance(self, dtype_name):
        """``(atol, rtol)`` for results of ``dtype_name``."""
        return self.tolerances.get(dtype_name, DEFAULT_TOLERANCES.get(dtype_name, (0, 0)))

    def samples(self, dtype_name, seed=0):
        """The samples for ``dtype_name``, drawn reproducibly, each a :class:`Sample`."""
        import ml_dtypes

        np_dtype = ml_dtypes.bfloat16 if dtype_name == "bfloat16" else np.dtype(dtype_name)
        rng = np.random.default_rng(seed)
        return [s if isinstance(s, Sample) else Sample(*s) for s in self.inputs(rng, np_dtype)]

    def __repr__(self):
        return f"OpCase({self.name!r})"
