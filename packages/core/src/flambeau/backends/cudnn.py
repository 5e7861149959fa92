"""``flambeau.backends.cudnn``: the convolution switches of torch's ``torch.backends.cudnn``.

flambeau-cuda runs 2-d convolutions on cuDNN where NVIDIA's cudnn-frontend is installed
(``pip install flambeau-cuda[cudnn]``) and cuDNN has an engine for the shape, and as im2col
plus cuBLAS products otherwise. These switches keep torch's names and defaults:
``allow_tf32`` (on by default, as in torch) lets float32 convolutions use TensorFloat-32
tensor cores on either path; ``enabled`` (on) lets them use cuDNN at all; ``benchmark`` and
``deterministic`` are accepted for compatibility (cuDNN's engines are picked by its
heuristics, not by timing, and the im2col path is deterministic).

Examples
--------
>>> import flambeau.backends.cudnn as cudnn
>>> cudnn.allow_tf32, cudnn.enabled, cudnn.benchmark
(True, True, False)
>>> cudnn.is_available() in (True, False)
True
"""

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

#: let float32 convolutions on CUDA use TensorFloat-32 tensor cores (torch's default: True)
allow_tf32 = True
#: accepted for compatibility; flambeau's convolutions have no algorithm search
benchmark = False
#: accepted for compatibility; flambeau's convolutions are deterministic already
deterministic = False
#: let CUDA convolutions use cuDNN where it is installed (False: always im2col + cuBLAS)
enabled = True


def is_available() -> bool:
    """Whether the registered ``cuda`` backend can run convolutions on cuDNN.

    Examples
    --------
    >>> import flambeau.backends.cudnn
    >>> flambeau.backends.cudnn.is_available() == (flambeau.backends.cudnn.version() is not None)
    True
    """
    return version() is not None


def version():
    """cuDNN's version as an int (``91000`` for 9.10.0, as torch reports it), or None where
    no backend uses cuDNN (no flambeau-cuda, or no cudnn-frontend beside it).

    Examples
    --------
    >>> import flambeau.backends.cudnn
    >>> v = flambeau.backends.cudnn.version()
    >>> v is None or v >= 90000
    True
    """
    from flambeau.backends._registry import get_backend, has_backend

    if not has_backend("cuda"):
        return None
    query = getattr(get_backend("cuda"), "cudnn_version", None)
    return None if query is None else query()
