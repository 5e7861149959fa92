"""flambeau.utils: PyTorch's ``torch.utils`` (``checkpoint``, ``dlpack``, ``hooks``,
``model_zoo``, ``tensorboard``, ``weak``, ``_pytree``, :func:`swap_tensors`).

flambeau-core provides this package; other distributions add modules to it, as
flambeau-data adds ``flambeau.utils.data`` (:mod:`flambeau.data` under PyTorch's name).
Its modules are imported on first access, as ``torch.utils.checkpoint`` is.

Examples
--------
>>> import flambeau
>>> from flambeau.utils.checkpoint import checkpoint
>>> x = flambeau.ones(2, requires_grad=True)
>>> checkpoint(lambda t: t * 3, x, use_reentrant=False).sum().backward()
>>> x.grad
tensor([3., 3.])
"""

# Other distributions add modules under flambeau.utils, as they do under flambeau.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from flambeau.utils._swap import swap_tensors  # noqa: E402

__all__ = ["checkpoint", "dlpack", "hooks", "swap_tensors"]

#: core's submodules, imported on first access
_SUBMODULES = ("checkpoint", "dlpack", "hooks", "model_zoo", "tensorboard", "weak")

#: submodule -> distribution, for those core does not ship
_PROVIDERS = {"data": "flambeau-data"}


def __getattr__(name):
    if name not in _SUBMODULES and name not in _PROVIDERS:
        raise AttributeError(f"module 'flambeau.utils' has no attribute '{name}'")
    import importlib

    full = f"{__name__}.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as missing:
        if missing.name != full or name not in _PROVIDERS:
            raise
        raise AttributeError(f"module 'flambeau.utils' has no attribute '{name}': {full} is "
                             f"provided by {_PROVIDERS[name]}: pip install "
                             f"{_PROVIDERS[name]}") from None
