"""flambeau.__future__: PyTorch's ``torch.__future__`` switches for behaviour that is to become
the default: how ``nn.Module`` conversions (``.to()``, ``.cuda()``, ``.double()``, ...)
replace parameters.

By default a conversion sets each parameter's data in place (``param.data = new``). With
:func:`set_swap_module_params_on_conversion` it swaps the new tensor into the parameter
object with :func:`flambeau.utils.swap_tensors` (the object and its identity stay, its whole
content changes); with :func:`set_overwrite_module_params_on_conversion` it puts new
Parameter objects in the module. The swap switch wins when both are set.

Examples
--------
>>> import flambeau
>>> flambeau.__future__.get_swap_module_params_on_conversion()
False
"""

from __future__ import annotations

__all__ = ["set_overwrite_module_params_on_conversion",
           "get_overwrite_module_params_on_conversion",
           "set_swap_module_params_on_conversion", "get_swap_module_params_on_conversion"]

_overwrite = False
_swap = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether ``nn.Module`` conversions put new Parameter objects in the module instead of
    changing the old ones' data (old references keep the old tensors).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.__future__.set_overwrite_module_params_on_conversion(True)
    >>> flambeau.__future__.get_overwrite_module_params_on_conversion()
    True
    >>> flambeau.__future__.set_overwrite_module_params_on_conversion(False)
    """
    global _overwrite
    _overwrite = bool(value)


def get_overwrite_module_params_on_conversion() -> bool:
    """The switch :func:`set_overwrite_module_params_on_conversion` sets (False by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.__future__.get_overwrite_module_params_on_conversion()
    False
    """
    return _overwrite


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether ``nn.Module`` conversions swap the converted tensor into each Parameter object
    with :func:`flambeau.utils.swap_tensors` (the objects stay; their gradients are converted
    too), instead of setting ``param.data``. As in PyTorch, a conversion between a forward
    pass and its backward then makes that backward raise.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.__future__.set_swap_module_params_on_conversion(True)
    >>> # now ``m.double()`` keeps ``m.weight``'s object and swaps float64 contents into it
    >>> flambeau.__future__.get_swap_module_params_on_conversion()
    True
    >>> flambeau.__future__.set_swap_module_params_on_conversion(False)
    """
    global _swap
    _swap = bool(value)


def get_swap_module_params_on_conversion() -> bool:
    """The switch :func:`set_swap_module_params_on_conversion` sets (False by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.__future__.get_swap_module_params_on_conversion()
    False
    """
    return _swap
