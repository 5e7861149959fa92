"""Parametrizations: a module's tensor computed from other tensors on each access.

``register_parametrization(module, "weight", p)`` moves ``module.weight`` to
``module.parametrizations.weight.original`` (or ``original0``, ``original1``... when
``p.right_inverse`` returns several tensors) and turns ``module.weight`` into a property
that evaluates ``p(original)``. The module's class is swapped for a subclass named
``Parametrized<Class>`` that carries the property, so ``state_dict`` keys, ``parameters()``
order and loading a PyTorch checkpoint work as in ``torch.nn.utils.parametrize``.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> from flambeau.nn.utils import parametrize
>>> class Symmetric(nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).mT
>>> m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
>>> bool((m.weight == m.weight.mT).all()), list(m.state_dict())
(True, ['bias', 'parametrizations.weight.original'])
"""

from __future__ import annotations

import copy
import copyreg
from collections.abc import Sequence
from contextlib import contextmanager

import flambeau
from flambeau import Tensor
from flambeau.nn.modules.container import ModuleDict, ModuleList
from flambeau.nn.parameter import Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "transfer_parametrizations_and_params",
    "type_before_parametrizations",
]

# Depth of nested ``cached()`` blocks, and the values computed inside them, keyed by
# (id(module), tensor name). Emptied when the outermost block exits.
_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Compute each parametrized tensor once inside the block and reuse it.

    Useful when a parametrized tensor is read several times per forward pass (a weight
    shared across time steps of an RNN, or read by several layers). The cached values are
    dropped when the outermost ``cached()`` block exits.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> class Double(nn.Module):
    ...     def forward(self, X):
    ...         return 2 * X
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Double())
    >>> m.weight is m.weight
    False
    >>> with parametrize.cached():
    ...     m.weight is m.weight
    True
    """
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, value):
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _describe(value):
    return type(value).__name__


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and the tensors they are computed from.

    ``module.parametrizations[name]`` is a ParametrizationList: item 0 receives the
    original tensor(s), each later item the previous item's output. The original is held as
    ``original`` when the right inverses return one tensor, else as ``original0``,
    ``original1``... It is created by :func:`register_parametrization`, not by hand.

    Parameters
    ----------
    modules : sequence of Module
        The parametrizations, applied in order.
    original : Tensor or Parameter
        The tensor being parametrized. Its right inverse under ``modules`` (when they define
        ``right_inverse``) becomes the stored original; a single returned tensor is written
        into ``original`` itself, so a Parameter keeps its identity.
    unsafe : bool
        Skip the checks that the parametrization keeps the tensor's shape and dtype.

    Raises
    ------
    ValueError
        When ``modules`` is empty, when a right inverse returns something other than a
        tensor or a sequence of tensors or changes a single tensor's dtype or device, or
        (unless ``unsafe``) when the parametrized tensor's dtype or shape differs from the
        original's. The original is left unchanged then.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
    >>> m.parametrizations.weight
    ParametrizationList(
      (0): Identity()
    )
    >>> m.parametrizations.weight.original.shape
    flambeau.Size([2, 2])
    """

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with flambeau.no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                f"tuple...). Got {_describe(new)}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        saved = (original._data, original._device)  # restored if a check below fails
        try:
            if self.is_tensor:
                if original.dtype != new.dtype:
                    raise ValueError(
                        "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                        f"original.dtype: {original.dtype}\n"
                        f"right_inverse(original).dtype: {new.dtype}"
                    )
                if original.device != new.device:
                    raise ValueError(
                        "When `right_inverse` outputs one tensor, it may not change the "
                        f"device.\noriginal.device: {original.device}\n"
                        f"right_inverse(original).device: {new.device}"
                    )
                with flambeau.no_grad():
                    original.set_(new)
                _register_parameter_or_buffer(self, "original", original)
            else:
                for i, originali in enumerate(new):
                    if not isinstance(originali, Tensor):
                        raise ValueError(
                            "'right_inverse' must return a Tensor or a Sequence of tensors "
                            f"(list, tuple...). Got element {i} of the sequence with type "
                            f"{_describe(originali)}."
                        )
                    if isinstance(original, Parameter):
                        originali = Parameter(originali, original.requires_grad)
                    originali.requires_grad_(original.requires_grad)
                    _register_parameter_or_buffer(self, f"original{i}", originali)
            if not self.unsafe:
                Z = self()
                if not isinstance(Z, Tensor):
                    raise ValueError(f"A parametrization must return a tensor. Got {_describe(Z)}.")
                if Z.dtype != original_dtype:
                    raise ValueError(
                        "Registering a parametrization may not change the dtype of the tensor, "
                        "unless `unsafe` flag is enabled.\n"
                        f"unparametrized dtype: {original_dtype}\n"
                        f"parametrized dtype: {Z.dtype}"
                    )
                if Z.shape != original_shape:
                    raise ValueError(
                        "Registering a parametrization may not change the shape of the tensor, "
                        "unless `unsafe` flag is enabled.\n"
                        f"unparametrized shape: {original_shape}\n"
                        f"parametrized shape: {Z.shape}"
                    )
        except Exception:
            original._data, original._device = saved
            raise

    def right_inverse(self, value):
        """Store the original tensor(s) that make the parametrized tensor equal ``value``.

        Runs the ``right_inverse`` of each parametrization, last first, and writes the
        result into ``original`` (or ``original0``...) in place.

        Raises
        ------
        RuntimeError
            When a parametrization has no ``right_inverse``.
        ValueError
            When the result is not a tensor (or a sequence of ``ntensors`` tensors), or its
            dtype differs from the stored original's, or (unless ``unsafe``) its shape does.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import parametrize
        >>> class Double(nn.Module):
        ...     def forward(self, X):
        ...         return 2 * X
        ...     def right_inverse(self, X):
        ...         return X / 2
        >>> m = parametrize.register_parametrization(nn.Linear(2, 1), "weight", Double())
        >>> m.weight = flambeau.tensor([[4.0, 6.0]])  # calls right_inverse
        >>> m.parametrizations.weight.original
        Parameter containing:
        tensor([[2., 3.]], requires_grad=True)
        """
        with flambeau.no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement "
                        "right_inverse."
                    )
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(
                        f"`right_inverse` should return a tensor. Got {_describe(value)}")
                self._check_stored(value, self.original, "`original`",
                                   "The tensor returned by `right_inverse`")
                self.original.set_(value)
                return
            if not isinstance(value, Sequence):
                raise ValueError(
                    f"'right_inverse' must return a sequence of tensors. Got {_describe(value)}."
                )
            if len(value) != self.ntensors:
                raise ValueError(
                    "'right_inverse' must return a sequence of tensors of length "
                    f"{self.ntensors}. Got a sequence of length {len(value)}."
                )
            originals = [getattr(self, f"original{i}") for i in range(self.ntensors)]
            for i, (tensor, original_i) in enumerate(zip(value, originals)):
                if not isinstance(tensor, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a sequence of tensors. Got element "
                        f"{i} of type {_describe(tensor)}."
                    )
                self._check_stored(tensor, original_i, f"`original{i}`",
                                   f"Tensor {i} returned by `right_inverse`")
            for tensor, original_i in zip(value, originals):  # all checked: nothing half-set
                original_i.set_(tensor)

    def _check_stored(self, value, original, original_name, what):
        if value.dtype != original.dtype:
            raise ValueError(
                f"{what} has dtype {value.dtype} while {original_name} has dtype "
                f"{original.dtype}"
            )
        # torch lets the stored shape change here; without `unsafe` the parametrization was
        # registered as shape-preserving, so a new shape is a mistake, reported before any write
        if not self.unsafe and value.shape != original.shape:
            raise ValueError(
                f"{what} has shape {tuple(value.shape)} while {original_name} has shape "
                f"{tuple(original.shape)}"
            )

    def forward(self):
        """The parametrized tensor: the parametrizations applied to the original(s).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import parametrize
        >>> m = parametrize.register_parametrization(nn.Linear(2, 1), "bias", nn.ReLU())
        >>> m.parametrizations.bias() is not None
        True
        """
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _default_deepcopy(self, memo):
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, copy.deepcopy(getattr(self, slot), memo))
    return replica


def _getstate(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). "
        "Save module.state_dict() and load it into a module parametrized the same way."
    )


def _inject_new_class(module):
    """Give ``module`` its own subclass, on which the parametrized properties are defined."""
    cls = module.__class__
    namespace = {"__getstate__": _getstate}
    if not hasattr(cls, "__deepcopy__"):
        # copy.deepcopy would go through __getstate__, which refuses
        namespace["__deepcopy__"] = _default_deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module, tensor_name):
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` on a stored original.

    The first registration on a tensor moves the parameter or buffer to
    ``module.parametrizations[tensor_name].original`` and swaps ``module``'s class for a
    subclass ``Parametrized<Class>`` whose property ``tensor_name`` returns
    ``parametrization(original)``. Later registrations on the same tensor are chained: each
    receives the previous one's output. Assigning to ``module.<tensor_name>`` calls the
    parametrizations' ``right_inverse`` (last first) and stores the result as the original.

    If ``parametrization`` has a method ``right_inverse``, the original is initialised to
    ``right_inverse(tensor)`` (so that the parametrized tensor starts at the current value);
    it may return one tensor or a sequence of tensors, stored as ``original0``,
    ``original1``... (``forward`` then takes that many arguments).

    Parameters
    ----------
    module : Module
        The module that owns the tensor.
    tensor_name : str
        A parameter, buffer or already parametrized tensor of ``module``.
    parametrization : Module
        Maps the original(s) to the tensor; may define ``right_inverse``.
    unsafe : bool
        Skip the checks that the parametrization keeps the shape and dtype and that its
        ``right_inverse`` is consistent (needed when it changes the shape).

    Returns
    -------
    Module
        ``module``.

    Raises
    ------
    ValueError
        When ``module`` has no parameter, buffer or parametrized tensor ``tensor_name``, or a
        check fails (see :class:`ParametrizationList`). A failed registration leaves the module
        as it was.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> class Skew(nn.Module):
    ...     def forward(self, X):
    ...         A = X.triu(1)
    ...         return A - A.mT
    >>> m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Skew())
    >>> type(m).__name__, parametrize.type_before_parametrizations(m).__name__
    ('ParametrizedLinear', 'Linear')
    >>> bool((m.weight == -m.weight.mT).all())
    True
    >>> [n for n, _ in m.named_parameters()]
    ['bias', 'parametrizations.weight.original']
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_chained(module, tensor_name, parametrization)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized "
            f"element with name '{tensor_name}'"
        )
    return module


def _check_chained(module, tensor_name, parametrization):
    Y = getattr(module, tensor_name)
    X = parametrization(Y)
    if not isinstance(X, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {_describe(X)}.")
    if X.dtype != Y.dtype:
        raise ValueError(
            "Registering a parametrization may not change the dtype of the tensor, unless the "
            f"`unsafe` flag is enabled.\nmodule.{tensor_name}.dtype: {Y.dtype}\n"
            f"parametrization(module.{tensor_name}).dtype: {X.dtype}"
        )
    if X.shape != Y.shape:
        raise ValueError(
            "Registering a parametrization may not change the shape of the tensor, unless the "
            f"`unsafe` flag is enabled.\nmodule.{tensor_name}.shape: {Y.shape}\n"
            f"parametrization(module.{tensor_name}).shape: {X.shape}"
        )
    if not hasattr(parametrization, "right_inverse"):
        return
    try:
        Z = parametrization.right_inverse(X)
    except NotImplementedError:
        return
    if not isinstance(Z, Tensor):
        raise ValueError(
            f"parametrization.right_inverse must return a tensor. Got: {_describe(Z)}"
        )
    if Z.dtype != Y.dtype:
        raise ValueError(
            "The tensor returned by parametrization.right_inverse must have the same dtype as "
            f"module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
            f"module.{tensor_name}.dtype: {Y.dtype}\nreturned dtype: {Z.dtype}"
        )
    if Z.shape != Y.shape:
        raise ValueError(
            "The tensor returned by parametrization.right_inverse must have the same shape as "
            f"module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
            f"module.{tensor_name}.shape: {Y.shape}\nreturned shape: {Z.shape}"
        )


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given).

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
    >>> parametrize.is_parametrized(m), parametrize.is_parametrized(m, "bias")
    (True, False)
    """
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Remove the parametrizations on ``module.<tensor_name>``, leaving a plain tensor.

    With ``leave_parametrized=True`` the tensor keeps its current (parametrized) value,
    written into the original Parameter object; otherwise it goes back to the stored
    original. When the last parametrization of the module goes, its class is restored.

    Parameters
    ----------
    module : Module
        A parametrized module.
    tensor_name : str
        The parametrized tensor.
    leave_parametrized : bool
        Keep the parametrized value (True) or the stored original (False).

    Returns
    -------
    Module
        ``module``.

    Raises
    ------
    ValueError
        When ``tensor_name`` is not parametrized, or when ``leave_parametrized=False`` and the
        tensor is parametrized by several originals.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> class Double(nn.Module):
    ...     def forward(self, X):
    ...         return 2 * X
    >>> m = nn.Linear(2, 1, bias=False)
    >>> with flambeau.no_grad():
    ...     m.weight.fill_(1.0)
    Parameter containing:
    tensor([[1., 1.]], requires_grad=True)
    >>> _ = parametrize.register_parametrization(m, "weight", Double())
    >>> parametrize.remove_parametrizations(m, "weight")
    Linear(in_features=2, out_features=1, bias=False)
    >>> m.weight
    Parameter containing:
    tensor([[2., 2.]], requires_grad=True)
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with flambeau.no_grad():
                t = getattr(module, tensor_name)
                original.set_(t)
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                "parametrized in terms of a sequence of tensors."
            )
        with flambeau.no_grad():
            t = getattr(module, tensor_name)
        requires_grad = any(getattr(plist, f"original{i}").requires_grad
                            for i in range(plist.ntensors))
        original = Parameter(t, requires_grad) if requires_grad else t
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The class of ``module`` before any parametrization swapped it.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
    >>> type(m).__name__, parametrize.type_before_parametrizations(m)
    ('ParametrizedLinear', <class 'flambeau.nn.modules.linear.Linear'>)
    """
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register ``from_module``'s parametrizations on ``to_module``, sharing the originals.

    The parametrization modules and the original tensors are shared (not copied), so both
    modules see the same parameters afterwards. ``to_module`` gets a Parameter holding the
    parametrized value for each tensor it lacks.

    Parameters
    ----------
    from_module : Module
        The module whose parametrizations are transferred.
    to_module : Module
        The module that receives them.
    tensor_name : str, optional
        Transfer only this tensor's parametrizations (default: all of them).

    Returns
    -------
    Module
        ``to_module``.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import parametrize
    >>> a = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
    >>> b = parametrize.transfer_parametrizations_and_params(a, nn.Linear(2, 2))
    >>> b.parametrizations.weight.original is a.parametrizations.weight.original
    True
    """
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module
