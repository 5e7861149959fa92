"""``flambeau.backends.cudnn``: the convolution switches of torch's ``torch.backends.cudnn``.

flambeau-cuda does not call cuDNN (CuPy 14 dropped its wrappers); its convolutions are
im2col plus cuBLAS products. These switches keep torch's names and defaults and mean the
same for those products: ``allow_tf32`` (on by default, as in torch) lets float32
convolutions use TensorFloat-32 tensor cores; ``enabled``, ``benchmark`` and
``deterministic`` are accepted for compatibility (the products are deterministic, and there
is no algorithm search to switch on).

Examples
--------
>>> import flambeau.backends.cudnn as cudnn
>>> cudnn.allow_tf32, cudnn.benchmark, cudnn.is_available()
(True, False, False)
"""

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

#: let float32 convolutions on CUDA use TensorFloat-32 tensor cores (torch's default: True)
allow_tf32 = True
#: accepted for compatibility; flambeau's convolutions have no algorithm search
benchmark = False
#: accepted for compatibility; flambeau's convolutions are deterministic already
deterministic = False
#: accepted for compatibility; switching it off changes nothing
enabled = True


def is_available() -> bool:
    """False: flambeau's CUDA convolutions do not use cuDNN.

    Examples
    --------
    >>> import flambeau.backends.cudnn
    >>> flambeau.backends.cudnn.is_available()
    False
    """
    return False


def version():
    """None, as torch answers where cuDNN is not used.

    Examples
    --------
    >>> import flambeau.backends.cudnn
    >>> flambeau.backends.cudnn.version() is None
    True
    """
    return None
