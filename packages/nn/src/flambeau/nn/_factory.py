"""``torch.nn.factory_kwargs``: the device/dtype/memory_format arguments of a module."""

from __future__ import annotations

__all__ = ["factory_kwargs"]

_FACTORY_NAMES = ("device", "dtype", "memory_format")


def factory_kwargs(kwargs):
    """The factory arguments (``device``, ``dtype``, ``memory_format``) in ``kwargs``, checked.

    Any other key raises ``TypeError`` at once (instead of at the factory call). A nested
    ``factory_kwargs`` dict in ``kwargs`` supplies arguments whose names a signature already
    uses for something else; naming one in both places is an error.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> kw = nn.factory_kwargs({"device": "cpu", "dtype": flambeau.float64})
    >>> flambeau.empty(2, **kw).dtype
    flambeau.float64
    >>> nn.factory_kwargs({"factory_kwargs": {"dtype": flambeau.float16}, "device": "cpu"})
    {'dtype': flambeau.float16, 'device': 'cpu'}
    """
    if kwargs is None:
        return {}
    unexpected = set(kwargs) - {*_FACTORY_NAMES, "factory_kwargs"}
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    result = dict(kwargs.get("factory_kwargs", {}))
    for name in _FACTORY_NAMES:
        if name in kwargs:
            if name in result:
                raise TypeError(f"{name} specified twice, in **kwargs and in factory_kwargs")
            result[name] = kwargs[name]
    return result
