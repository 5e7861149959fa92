"""``flambeau.backends.cuda``: switches the CUDA backend reads (TF32 matmuls), and PyTorch's
switches of the ``scaled_dot_product_attention`` kernels.

Kept in core, with no plugin import, so that code can set them whether or not flambeau-cuda
is installed.

Examples
--------
>>> import flambeau.backends.cuda
>>> flambeau.backends.cuda.matmul.allow_tf32
False
"""

__all__ = ["cudnn_sdp_enabled", "enable_cudnn_sdp", "enable_flash_sdp", "enable_math_sdp",
           "enable_mem_efficient_sdp", "flash_sdp_enabled", "math_sdp_enabled", "matmul",
           "mem_efficient_sdp_enabled"]


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


# ------------------------------------------------------------------ attention kernels
# PyTorch chooses among several kernels of scaled_dot_product_attention (math, flash,
# memory-efficient, cuDNN) and lets code switch each off. flambeau has one implementation,
# which serves whichever are on; with all of them off it raises, as PyTorch does.
_sdp = {"math": True, "flash": True, "mem_efficient": True, "cudnn": True}


def _sdp_switch(kind, what):
    def enable(enabled: bool) -> None:
        _sdp[kind] = bool(enabled)

    def enabled() -> bool:
        return _sdp[kind]

    enable.__name__ = enable.__qualname__ = f"enable_{kind}_sdp"
    enabled.__name__ = enabled.__qualname__ = f"{kind}_sdp_enabled"
    example = f"""
    Examples
    --------
    >>> import flambeau.backends.cuda as cuda
    >>> cuda.enable_{kind}_sdp(False); cuda.{kind}_sdp_enabled()
    False
    >>> cuda.enable_{kind}_sdp(True)
    """
    enable.__doc__ = (f"Allow (True, the default) or forbid PyTorch's {what} kernel of "
                      "``scaled_dot_product_attention``. flambeau's one implementation serves "
                      "any kernel that is allowed; with none allowed it raises.\n" + example)
    enabled.__doc__ = (f"Whether the {what} kernel is allowed (see ``enable_{kind}_sdp``).\n"
                       + example)
    return enable, enabled


enable_math_sdp, math_sdp_enabled = _sdp_switch("math", "math (reference)")
enable_flash_sdp, flash_sdp_enabled = _sdp_switch("flash", "flash attention")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp_switch(
    "mem_efficient", "memory-efficient attention")
enable_cudnn_sdp, cudnn_sdp_enabled = _sdp_switch("cudnn", "cuDNN attention")


def sdp_allowed() -> bool:
    """Whether any kernel of ``scaled_dot_product_attention`` is allowed."""
    return any(_sdp.values())
