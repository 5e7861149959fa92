"""Random-number generators: flambeau.Generator, manual_seed, and the default generators."""

from __future__ import annotations

import numpy as np

from flambeau import _device, _dtype

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "default_generator"]

#: the seed of every default generator before manual_seed is called (PyTorch's value)
DEFAULT_SEED = 67280421310721


class Generator:
    """A random-number stream on one device; pass it as ``generator=`` to random ops.

    Examples
    --------
    >>> import flambeau
    >>> g = flambeau.Generator().manual_seed(42)
    >>> a = flambeau.rand(3, generator=g)
    >>> g.manual_seed(42)  # doctest: +ELLIPSIS
    <flambeau.Generator object at ...>
    >>> bool((a == flambeau.rand(3, generator=g)).all())
    True
    """

    def __init__(self, device="cpu"):
        self.device = _device.canonical(device)
        self._seed = DEFAULT_SEED
        self._rng = self.device.backend.new_rng(DEFAULT_SEED, self.device.index)

    def manual_seed(self, seed: int):
        """Reseed; returns the generator."""
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._rng = self.device.backend.new_rng(seed, self.device.index)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        s = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed last given to :meth:`manual_seed` (or the default)."""
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor (restore it with :meth:`set_state`)."""
        from flambeau._creation import tensor

        blob = self._rng.get_state()
        return tensor(list(blob) + list(self._seed.to_bytes(8, "little")), dtype="uint8")

    def set_state(self, new_state):
        """Restore a state from :meth:`get_state`; returns the generator."""
        raw = bytes(new_state.tolist())
        self._rng.set_state(raw[:-8])
        self._seed = int.from_bytes(raw[-8:], "little")
        return self

    def __repr__(self):
        return f"<flambeau.Generator object at {id(self):#x}>"


_defaults: dict = {}
#: the seed of the last manual_seed: a device's default generator created after it starts from
#: it (PyTorch seeds CUDA generators lazily the same way), so seeding reaches every device
_last_seed: int | None = None


def default_generator_for(dev) -> Generator:
    """The default generator of a device (created on first use)."""
    dev = _device.canonical(dev)
    gen = _defaults.get(dev)
    if gen is None:
        gen = _defaults[dev] = Generator(dev)
        if _last_seed is not None:
            gen.manual_seed(_last_seed)
    return gen


class _DefaultCPU:
    """``flambeau.default_generator``: the CPU default generator, created lazily.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.default_generator.manual_seed(3)
    >>> flambeau.default_generator.initial_seed()
    3
    """

    def __getattr__(self, name):
        return getattr(default_generator_for("cpu"), name)

    def __repr__(self):
        return repr(default_generator_for("cpu"))


default_generator = _DefaultCPU()


def manual_seed(seed: int):
    """Seed the default generators of every device; returns the CPU one.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.manual_seed(0)
    >>> a = flambeau.randn(2)
    >>> _ = flambeau.manual_seed(0)
    >>> bool((a == flambeau.randn(2)).all())
    True
    """
    global _last_seed
    cpu = default_generator_for("cpu").manual_seed(seed)
    _last_seed = cpu.initial_seed()
    for dev, gen in _defaults.items():
        if gen is not cpu:
            gen.manual_seed(seed)
    _seed_hooks_run(seed)
    return cpu


_seed_hooks: list = []


def _seed_hooks_run(seed):
    for hook in _seed_hooks:
        hook(seed)


def seed() -> int:
    """Seed the CPU default generator non-deterministically; returns the seed.

    Examples
    --------
    >>> import flambeau
    >>> isinstance(flambeau.seed(), int)
    True
    """
    s = default_generator_for("cpu").seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The CPU default generator's seed.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.manual_seed(7)
    >>> flambeau.initial_seed()
    7
    """
    return default_generator_for("cpu").initial_seed()


def get_rng_state():
    """The CPU default generator's state (a uint8 tensor).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.get_rng_state()
    >>> a = flambeau.rand(1); flambeau.set_rng_state(s)
    >>> bool(a == flambeau.rand(1))
    True
    """
    return default_generator_for("cpu").get_state()


def set_rng_state(new_state) -> None:
    """Restore the CPU default generator's state.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_rng_state(flambeau.get_rng_state())
    """
    default_generator_for("cpu").set_state(new_state)


#: PyTorch's errors for the in-place samplers that have no complex version
_NO_COMPLEX = {
    "exponential_": (RuntimeError, "Exponential distribution is a continuous probability "
                     "distribution. dtype must be a floating point but you specified {name}"),
    "cauchy_": (RuntimeError, "Cauchy distribution is a continuous probability distribution. "
                "dtype must be a floating point but you specified {cpp}"),
    "random_": (RuntimeError, "random_: check_random_bounds handles only integral, "
                "floating-point and boolean types (got {dtype})"),
    # random_() without bounds: torch's kernel refuses before any bound is checked
    "random_()": (NotImplementedError, '"random_kernel_cpu" not implemented for \'{name}\''),
    "bernoulli_": (NotImplementedError, '"bernoulli_scalar_cpu_" not implemented for \'{name}\''),
    "log_normal_": (NotImplementedError, '"log_normal_cpu" not implemented for \'{name}\''),
    "geometric_": (NotImplementedError, '"geometric_cpu" not implemented for \'{name}\''),
}


#: PyTorch's errors for the in-place samplers of continuous distributions on integer or
#: bool tensors ({name}: the scalar type name, {cpp}: the C type's)
_NO_INTEGER = {
    "normal_": (NotImplementedError, '"normal_kernel_cpu" not implemented for \'{name}\''),
    "uniform_": (NotImplementedError, '"check_uniform_bounds" not implemented for \'{name}\''),
    "exponential_": _NO_COMPLEX["exponential_"],
    "cauchy_": _NO_COMPLEX["cauchy_"],
    "log_normal_": _NO_COMPLEX["log_normal_"],
}
_INTEGER_NAMES = {"int64": ("Long", "long int"), "int32": ("Int", "int"),
                  "int16": ("Short", "short int"), "int8": ("Char", "signed char"),
                  "uint8": ("Byte", "unsigned char"), "bool": ("Bool", "bool")}


#: C type names of the floating dtypes in PyTorch's messages
_FLOAT_CPP = {"float64": "double", "float32": "float", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16"}
#: C type names of the unsigned dtypes of limited support (not in _INTEGER_NAMES: their
#: samplers are not refused as the other integers' are)
_UNSIGNED_CPP = {"uint16": "short unsigned int", "uint32": "unsigned int",
                 "uint64": "long unsigned int"}
#: the largest integer up to which every integer is exact, per floating dtype
_FLOAT_DIGITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}


def check_random_order(low, high):
    """PyTorch's error for ``random_(from, to)`` with ``from >= to`` (checked first)."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")


def default_random_top(np_dtype):
    """The largest value ``random_()`` draws for ``np_dtype``, as PyTorch: the integer
    dtype's maximum, or ``2**digits`` for a floating one."""
    import numpy as np

    if np_dtype.kind == "b":
        return 1
    if np_dtype.kind in "iu":
        return int(np.iinfo(np_dtype).max)
    return 2 ** _FLOAT_DIGITS[np_dtype.name]


def check_random_bounds(np_dtype, low, last):
    """PyTorch's errors for ``random_(from, to)`` whose ``from`` or ``to - 1`` the dtype
    cannot hold."""
    import ml_dtypes
    import numpy as np

    name = np_dtype.name
    if np_dtype.kind == "b":
        lo, hi, cpp = 0, 1, "bool"
    elif np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        lo, hi = int(info.min), int(info.max)
        cpp = _UNSIGNED_CPP[name] if name in _UNSIGNED_CPP else _INTEGER_NAMES[name][1]
    else:
        info = ml_dtypes.finfo(np_dtype)
        lo, hi, cpp = float(info.min), float(info.max), _FLOAT_CPP[name]
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {cpp}")
    if not lo <= last <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {cpp}")


#: the kernels torch's float8 errors name, per sampler
FLOAT8_KERNELS = {"rand": "check_uniform_bounds", "uniform_": "check_uniform_bounds",
                  "randn": "normal_kernel_cpu", "normal_": "normal_kernel_cpu",
                  "randint": "random_update_from_to", "random_": "random_update_from_to",
                  "random_()": "random_kernel_cpu", "exponential_": "exponential_cpu",
                  "cauchy_": "cauchy_cpu", "log_normal_": "log_normal_cpu",
                  "geometric_": "geometric_cpu", "bernoulli_": "bernoulli_scalar_cpu_"}


def check_real_draw(op, t, bounded=False):
    """Raise PyTorch's error when the in-place sampler ``op`` cannot fill ``t``'s dtype:
    continuous distributions need floating point, ``geometric_`` anything but bool, and no
    sampler fills a float8 (``bounded``: ``random_`` was given bounds)."""
    if t._data.dtype in _dtype.CAST_FIXED:  # a float8
        key = "random_()" if op == "random_" and not bounded else op
        _dtype.refuse_float8(FLOAT8_KERNELS.get(key, op), _dtype.from_numpy_dtype(t._data.dtype))
    name = t._data.dtype.name
    if name not in _INTEGER_NAMES:
        return
    if op in _NO_INTEGER or (op == "geometric_" and name == "bool"):
        exc, msg = _NO_INTEGER.get(op) or _NO_COMPLEX[op]
        scalar, cpp = _INTEGER_NAMES[name]
        raise exc(msg.format(name=scalar, cpp=cpp))


def complex_draw(op, rng, t, *args, **kwargs):
    """The values in-place sampler ``op`` (``"normal_"``, ``"uniform_"``...) writes into the
    complex tensor ``t``, drawn from ``rng``, as PyTorch draws them: ``normal_(mean, std)``
    gives both parts mean ``mean`` and variance ``std**2 / 2``; ``uniform_(a, b)`` makes both
    parts uniform on ``[a, b)``. The other samplers raise PyTorch's error.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.manual_seed(0)
    >>> z = flambeau.zeros(20000, dtype=flambeau.complex64).normal_(1.0, 2.0)
    >>> round(z.real.mean().item()), round(z.imag.mean().item()), round(z.imag.var().item())
    (1, 1, 2)
    >>> z = flambeau.zeros(100, dtype=flambeau.complex64).uniform_(2, 3)
    >>> bool(((z.imag >= 2) & (z.imag < 3)).all())
    True
    """
    from flambeau import _dtype

    dt = _dtype.from_numpy_dtype(t._data.dtype)
    if op == "random_" and args:
        check_random_order(*((0, args[0]) if len(args) == 1 else args[:2]))
    if op not in ("normal_", "uniform_"):
        exc, msg = _NO_COMPLEX["random_()" if op == "random_" and not (args or kwargs) else op]
        names = {"complex64": ("ComplexFloat", "c10::complex<float>"),
                 "complex128": ("ComplexDouble", "c10::complex<double>")}[dt.name]
        raise exc(msg.format(name=names[0], cpp=names[1], dtype=dt))
    part = dt.to_real().np
    shape = tuple(t._data.shape) + (2,)
    if op == "normal_":
        mean, std = _bound_args(("mean", "std"), (0.0, 1.0), args, kwargs, op)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        arr = rng.standard_normal(shape, part) * part.type(std * 0.5 ** 0.5) + part.type(mean)
    else:
        low, high = _bound_args(("from", "to"), (0.0, 1.0), args, kwargs, op)
        if low > high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={low:g} > to={high:g}")
        arr = rng.random(shape, part) * part.type(high - low) + part.type(low)
    return arr.astype(part, copy=False).view(dt.np).reshape(t._data.shape)


def _bound_args(names, defaults, args, kwargs, op):
    """Two real numbers from the positional and keyword arguments of a sampler."""
    values = list(defaults)
    for i, v in enumerate(args[:2]):
        values[i] = v
    for key, v in kwargs.items():
        if key in names:
            values[names.index(key)] = v
        elif key == "a" or key == "b":  # flambeau's own uniform_(a, b) names
            values["ab".index(key)] = v
        else:
            raise TypeError(f"{op}() got an unexpected keyword argument {key!r}")
    for name, v in zip(names, values):
        if isinstance(v, complex):
            raise TypeError(f"{op}(): argument '{name}' must be float, not complex")
    return [float(v) for v in values]


def generator_for(generator, dev) -> Generator:
    if generator is None:
        return default_generator_for(dev)
    if isinstance(generator, _DefaultCPU):
        return default_generator_for("cpu")
    if generator.device != dev and generator.device.type != dev.type:
        raise RuntimeError(
            f"Expected a '{dev.type}' device type for generator but found "
            f"'{generator.device.type}'"
        )
    return generator
