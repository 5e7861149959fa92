"""``flambeau.backends.cuda``: switches the CUDA backend reads (TF32 matmuls).

Kept in core, with no plugin import, so that code can set them whether or not flambeau-cuda
is installed.

Examples
--------
>>> import flambeau.backends.cuda
>>> flambeau.backends.cuda.matmul.allow_tf32
False
"""

__all__ = ["matmul"]


class _MatmulSettings:
    """``matmul.allow_tf32``: let float32 matrix products use TensorFloat-32 (as torch).

    Examples
    --------
    >>> import flambeau.backends.cuda
    >>> flambeau.backends.cuda.matmul.allow_tf32 = True  # faster, ~1e-3 relative error
    >>> flambeau.backends.cuda.matmul.allow_tf32 = False
    """

    allow_tf32 = False

    def __repr__(self):
        return f"<flambeau.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


#: settings of CUDA matrix products (``allow_tf32``)
matmul = _MatmulSettings()
