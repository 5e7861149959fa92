"""``flambeau.version``: what ``torch.version`` tells (the library's version, and the CUDA
version of the GPU backend, None without one).

``cuda`` is asked of the installed ``"cuda"`` backend plugin when it is read (flambeau-core
never imports a GPU library itself); ``hip``, ``rocm`` and ``xpu`` are None: no plugin for
them ships with flambeau.

Examples
--------
>>> import flambeau
>>> flambeau.version.__version__ == flambeau.__version__, flambeau.version.debug
(True, False)
>>> flambeau.version.cuda is None or isinstance(flambeau.version.cuda, str)
True
"""

from __future__ import annotations

# ``cuda`` and ``__version__`` are read when asked (see ``__getattr__``)
__all__ = ["debug", "hip", "rocm", "xpu"]

debug = False
hip = None
rocm = None
xpu = None


def __getattr__(name):
    if name == "cuda":
        return _cuda_version()
    if name == "__version__":
        import flambeau

        return flambeau.__version__
    raise AttributeError(f"module 'flambeau.version' has no attribute {name!r}")


def _cuda_version():
    """``"major.minor"`` of the CUDA runtime the ``"cuda"`` backend uses, or None."""
    from flambeau.backends import _registry

    if "cuda" not in _registry.backend_names():
        return None
    backend = _registry.get_backend("cuda")
    ask = getattr(backend, "cuda_version", None)
    return None if ask is None or not backend.is_available() else ask()
