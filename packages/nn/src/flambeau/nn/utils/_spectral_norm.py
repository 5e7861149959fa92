"""Spectral normalization as a forward pre-hook (the legacy form, with ``weight_orig``)."""

from __future__ import annotations

import flambeau
import flambeau.nn.functional as F
from flambeau.nn.parameter import Parameter, UninitializedParameter
from flambeau.nn.utils.parametrizations import (
    _check_power_iterations,
    _default_spectral_dim,
    _weight_matrix,
)

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: ``weight = weight_orig / sigma``.

    Parameters
    ----------
    name : str
        The normalized tensor (``<name>_orig`` holds the parameter, ``<name>_u`` and
        ``<name>_v`` the singular vector estimates).
    n_power_iterations : int
        Power iterations per call in training mode.
    dim : int
        The output dimension, moved first before the weight is flattened to a matrix.
    eps : float
        Added to norms to avoid dividing by zero.

    Raises
    ------
    ValueError
        When ``n_power_iterations`` is not positive.

    Examples
    --------
    >>> from flambeau.nn.utils._spectral_norm import SpectralNorm
    >>> fn = SpectralNorm("weight", n_power_iterations=2)
    >>> fn.name, fn.n_power_iterations, fn.dim
    ('weight', 2, 0)
    """

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        _check_power_iterations(n_power_iterations)
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """``weight`` as a matrix: dimension ``dim`` first, the others flattened.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils._spectral_norm import SpectralNorm
        >>> SpectralNorm(dim=1).reshape_weight_to_matrix(flambeau.ones(2, 3, 4)).shape
        flambeau.Size([3, 8])
        """
        return _weight_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration):
        """``<name>_orig / sigma``, after power iterations on ``u`` and ``v`` if asked.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.utils.spectral_norm(nn.Linear(3, 2))
        >>> fn = next(iter(m._forward_pre_hooks.values()))
        >>> fn.compute_weight(m, do_power_iteration=False).shape
        flambeau.Size([2, 3])
        """
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with flambeau.no_grad():
                w = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    # in place, so the buffers (and state_dict views of them) stay the same
                    F.normalize(flambeau.mv(w.mT, u), dim=0, eps=self.eps, out=v)
                    F.normalize(flambeau.mv(w, v), dim=0, eps=self.eps, out=u)
            # clones: the next call's iterations must not change what backward saved
            u, v = u.clone(), v.clone()
        sigma = flambeau.dot(u, flambeau.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        """Replace ``<name>_orig``, ``<name>_u`` and ``<name>_v`` by the parameter ``<name>``.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.utils.spectral_norm(nn.Linear(3, 2))
        >>> fn = next(iter(m._forward_pre_hooks.values()))
        >>> fn.remove(m); sorted(m.state_dict())
        ['bias', 'weight']
        """
        with flambeau.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Set up spectral normalization on ``module.<name>``; returns the hook.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils._spectral_norm import SpectralNorm
        >>> m = nn.Linear(3, 2)
        >>> fn = SpectralNorm.apply(m, "weight", 1, 0, 1e-12)
        >>> list(m.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
        """
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `SpectralNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying spectral normalization"
            )
        with flambeau.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            kw = {"dtype": weight.dtype, "device": weight.device}
            u = F.normalize(flambeau.randn(h, **kw), dim=0, eps=fn.eps)
            v = F.normalize(flambeau.randn(w, **kw), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # a plain attribute until the first call computes the normalized weight
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalization with a forward pre-hook: ``weight = weight_orig / sigma``.

    ``sigma``, the largest singular value of the weight viewed as a matrix (``dim`` first),
    is estimated from the buffers ``<name>_u`` and ``<name>_v``, advanced by
    ``n_power_iterations`` power iterations before each call in training mode. The
    parameter becomes ``<name>_orig``. :func:`flambeau.nn.utils.parametrizations.spectral_norm`
    is the newer form of the same.

    Parameters
    ----------
    module : Module
        The module that owns the parameter.
    name : str
        The parameter (default ``"weight"``).
    n_power_iterations : int
        Power iterations per call in training mode (default 1).
    eps : float
        Added to norms to avoid dividing by zero.
    dim : int, optional
        The output dimension: default 0, or 1 for ``ConvTranspose1d/2d/3d``.

    Returns
    -------
    Module
        ``module``.

    Raises
    ------
    RuntimeError
        When ``<name>`` already has a spectral_norm hook.
    ValueError
        When the parameter is None or uninitialized, or ``n_power_iterations`` is not
        positive.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
    >>> list(m.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    >>> m.weight_u.shape
    flambeau.Size([40])
    """
    if dim is None:
        dim = _default_spectral_dim(module)
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``<name>`` becomes a parameter holding the normalized value.

    Raises
    ------
    ValueError
        When ``module`` has no spectral_norm hook on ``name``.

    Examples
    --------
    >>> from flambeau import nn
    >>> m = nn.utils.spectral_norm(nn.Linear(2, 3))
    >>> list(nn.utils.remove_spectral_norm(m).state_dict())
    ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
