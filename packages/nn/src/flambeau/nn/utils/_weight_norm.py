"""Weight normalization as a forward pre-hook (the legacy form, with ``weight_g``/``weight_v``)."""

from __future__ import annotations

import warnings

from flambeau.nn._complex import refuse_complex
from flambeau.nn.parameter import Parameter, UninitializedParameter
from flambeau.nn.utils.parametrizations import _norm_except_dim, _weight_norm

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: recomputes ``weight`` from ``g`` and ``v``.

    Parameters
    ----------
    name : str
        The reparametrized tensor; its parts are the parameters ``<name>_g`` and
        ``<name>_v``.
    dim : int or None
        The dimension kept by the norm (None or -1: the whole tensor).

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils._weight_norm import WeightNorm
    >>> fn = WeightNorm("weight", None)
    >>> fn.name, fn.dim
    ('weight', -1)
    """

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        """``g * v / ||v||`` from ``module``'s parameters ``<name>_g`` and ``<name>_v``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.nn.utils._weight_norm import WeightNorm
        >>> m = nn.Module()
        >>> m.w_g = nn.Parameter(flambeau.tensor([[2.0]]))
        >>> m.w_v = nn.Parameter(flambeau.tensor([[3.0, 4.0]]))
        >>> WeightNorm("w", 0).compute_weight(m)
        tensor([[1.2000, 1.6000]], grad_fn=<MulBackward0>)
        """
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        """Reparametrize ``module.<name>``; returns the hook (see :func:`weight_norm`).

        Examples
        --------
        >>> import warnings
        >>> from flambeau import nn
        >>> from flambeau.nn.utils._weight_norm import WeightNorm
        >>> m = nn.Linear(2, 3)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     fn = WeightNorm.apply(m, "weight", 0)
        >>> sorted(m.state_dict())
        ['bias', 'weight_g', 'weight_v']
        """
        warnings.warn(
            "`flambeau.nn.utils.weight_norm` is deprecated in favor of "
            "`flambeau.nn.utils.parametrizations.weight_norm`.",
            FutureWarning, stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. Make "
                "sure to run the dummy forward before applying weight normalization"
            )
        refuse_complex("weight_norm", weight)  # as PyTorch's kernel
        g = _norm_except_dim(weight.detach(), fn.dim)  # before any change: may raise
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        """Replace ``<name>_g`` and ``<name>_v`` by one parameter ``<name>`` of equal value.

        Examples
        --------
        >>> import warnings
        >>> from flambeau import nn
        >>> from flambeau.nn.utils._weight_norm import WeightNorm
        >>> m = nn.Linear(2, 3)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     fn = WeightNorm.apply(m, "weight", 0)
        >>> fn.remove(m); sorted(m.state_dict())
        ['bias', 'weight']
        """
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Weight normalization with a forward pre-hook: ``w = g v / ||v||`` before each call.

    Replaces the parameter ``<name>`` by ``<name>_g`` (the magnitude, norm over every
    dimension but ``dim``) and ``<name>_v`` (the direction); ``module.<name>`` becomes a
    plain tensor recomputed by a forward pre-hook. Deprecated (a FutureWarning) in favour
    of :func:`flambeau.nn.utils.parametrizations.weight_norm`, as in PyTorch.

    Parameters
    ----------
    module : Module
        The module that owns the parameter.
    name : str
        The parameter (default ``"weight"``).
    dim : int or None
        The dimension kept by the norm (default 0); None for the whole tensor.

    Returns
    -------
    Module
        ``module``.

    Raises
    ------
    RuntimeError
        When ``<name>`` already has a weight_norm hook.
    ValueError
        When the parameter is uninitialized (a lazy module before its first call).

    Examples
    --------
    >>> import warnings
    >>> from flambeau import nn
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     m = nn.utils.weight_norm(nn.Linear(20, 40), name="weight")
    >>> m.weight_g.shape, m.weight_v.shape
    (flambeau.Size([40, 1]), flambeau.Size([40, 20]))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``<name>`` becomes one parameter again, with equal value.

    Raises
    ------
    ValueError
        When ``module`` has no weight_norm hook on ``name``.

    Examples
    --------
    >>> import warnings
    >>> from flambeau import nn
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     m = nn.utils.weight_norm(nn.Linear(2, 3))
    >>> list(nn.utils.remove_weight_norm(m).state_dict())
    ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
