"""Named kernels of the CUDA backend, looked up by the generic ops through ``backend.kernels``.

Each module documents the signature its kernels must have (the caller's contract):
``matmul`` and ``cholesky`` (core), ``index_add_at`` (core indexing), ``softmax``,
``log_softmax`` and their ``*_backward`` (core reductions), ``cross_entropy`` (nn losses),
``conv2d`` and its two adjoints (nn convolution: cuDNN where cudnn-frontend is installed and
has an engine for the shape, else im2col + cuBLAS), ``batch_norm`` and ``max_pool2d`` and their
backwards (nn normalization and pooling), ``lstm_cell``, ``gru_cell`` and their backwards
(nn recurrent layers), ``dropout_mask`` (nn dropout, from the generator's Philox stream), the fused
activations ``gelu``, ``silu``, ... and their ``*_backward`` (nn
functional), ``relu_backward_from_output`` and the same for sigmoid and tanh (core's gradients
from a saved output), ``sgd_step`` / ``adam_step`` (optim). Kernels that may decline an input return
None for it (see :meth:`flambeau.backends.Backend.run_kernel`).
CuPy is imported only when a kernel runs, i.e. on a CUDA tensor.
"""

from __future__ import annotations

__all__ = ["first_answer", "kernel_table"]


def first_answer(*kernels):
    """A kernel that tries ``kernels`` in turn and returns the first answer that is not None
    (a kernel returns None to decline an input; the last one should serve every input).

    Examples
    --------
    >>> from flambeau_cuda._kernels import first_answer
    >>> half = first_answer(lambda n: n // 2 if n % 2 == 0 else None, lambda n: n / 2)
    >>> half(4), half(3)
    (2, 1.5)
    """
    def kernel(*args):
        for candidate in kernels:
            result = candidate(*args)
            if result is not None:
                return result
        return None

    kernel.__name__ = kernel.__qualname__ = "_or_".join(k.__name__ for k in kernels)
    return kernel


def kernel_table() -> dict:
    """The ``kernels`` dict of :class:`~flambeau_cuda._backend.CudaBackend`.

    Examples
    --------
    >>> from flambeau_cuda._kernels import kernel_table
    >>> table = kernel_table()
    >>> "conv2d" in table and "gelu_backward" in table and "lstm_cell" in table
    True
    """
    from flambeau_cuda._kernels import (
        _activation,
        _conv,
        _cudnn,
        _linalg,
        _loss,
        _norm,
        _optim,
        _pool,
        _rnn,
        _scatter,
        _softmax,
    )
    from flambeau_cuda._rng import dropout_mask

    return _activation.kernels() | {
        "matmul": _linalg.matmul,
        "cholesky": _linalg.cholesky,
        "index_add_at": _scatter.index_add_at,
        "cross_entropy": _loss.cross_entropy,
        "softmax": _softmax.softmax,
        "log_softmax": _softmax.log_softmax,
        "softmax_backward": _softmax.softmax_backward,
        "log_softmax_backward": _softmax.log_softmax_backward,
        "conv2d": first_answer(_cudnn.conv2d, _conv.conv2d),
        "conv2d_backward_input": first_answer(_cudnn.conv2d_backward_input,
                                              _conv.conv2d_backward_input),
        "conv2d_backward_weight": first_answer(_cudnn.conv2d_backward_weight,
                                               _conv.conv2d_backward_weight),
        "sgd_step": _optim.sgd_step,
        "adam_step": _optim.adam_step,
        "batch_norm": _norm.batch_norm,
        "batch_norm_backward": _norm.batch_norm_backward,
        "batch_norm_running": _norm.batch_norm_running,
        "max_pool2d": _pool.max_pool2d,
        "max_pool2d_backward": _pool.max_pool2d_backward,
        "lstm_cell": _rnn.lstm_cell,
        "lstm_cell_backward": _rnn.lstm_cell_backward,
        "gru_cell": _rnn.gru_cell,
        "gru_cell_backward": _rnn.gru_cell_backward,
        "dropout_mask": dropout_mask,
    }
