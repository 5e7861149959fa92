"""skip_init: build a module without paying for (or drawing random numbers for) its init."""

from __future__ import annotations

import inspect

import flambeau
from flambeau._random import default_generator_for
from flambeau.nn.modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Instantiate ``module_cls(*args, **kwargs)`` with unspecified parameter values.

    For modules that are initialised afterwards anyway (loaded from a checkpoint, or set by
    a custom init). The module class must accept a ``device`` argument; ``device`` in
    ``kwargs`` (default ``"cpu"``) is where the module is built.

    flambeau has no ``meta`` device, so the module is constructed on the target device as
    usual; the random generators of the CPU and of that device are then put back as they
    were, so that, as in PyTorch, ``skip_init`` draws no random numbers as far as the rest
    of the program can tell.

    Parameters
    ----------
    module_cls : type
        A subclass of :class:`~flambeau.nn.Module` whose constructor takes ``device``.
    *args, **kwargs
        The constructor's arguments.

    Returns
    -------
    Module
        The new module.

    Raises
    ------
    RuntimeError
        When ``module_cls`` is not a Module class or takes no ``device`` argument.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import skip_init
    >>> _ = flambeau.manual_seed(0); a = flambeau.rand(1)
    >>> _ = flambeau.manual_seed(0); m = skip_init(nn.Linear, 5, 1)
    >>> m.weight.shape, bool(flambeau.rand(1) == a)
    (flambeau.Size([1, 5]), True)
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = flambeau.device(kwargs.pop("device", "cpu"))
    generators = {default_generator_for(flambeau.device("cpu")), default_generator_for(device)}
    states = [(g, g.get_state()) for g in generators]
    try:
        return module_cls(*args, device=device, **kwargs)
    finally:
        for g, state in states:
            g.set_state(state)
