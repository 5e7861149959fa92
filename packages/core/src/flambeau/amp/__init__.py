"""Mixed precision: :class:`autocast` regions and :class:`GradScaler` (``torch.amp``).

Inside an autocast region each op runs in the dtype PyTorch's autocast op lists give it, the
union of its CPU and CUDA lists on every device:

* in the region's low-precision dtype: ``matmul``, ``mm``, ``bmm``, ``mv``, ``addmm``,
  ``addmv``, ``baddbmm``, ``einsum``, ``linear``, ``bilinear``, the convolutions and transposed
  convolutions, ``prelu``, ``scaled_dot_product_attention``, multi-head attention, ``vecdot``;
* in float32: softmax, log_softmax, softmin, logsumexp, ``sum``, ``prod``, ``cumsum``,
  ``cumprod``, ``norm`` and the distances, the normalization layers, the losses, and ``exp``,
  ``log``, ``pow``, ``rsqrt`` and their relatives;
* in the widest dtype of their inputs: ``cat``, ``stack``, ``addcmul`` and the other ops that
  combine tensors.

The recurrent layers and cells follow each device's list instead, as in PyTorch, so that
their outputs and states have PyTorch's dtypes:

* on CUDA (and other accelerators) ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` run whole in float16,
  even in a bfloat16 region (PyTorch casts its cuDNN RNN to float16), and the cells
  (``nn.LSTMCell``, ``flambeau.lstm_cell``...) in the region's dtype;
* on the CPU only an ``nn.LSTM`` without projections on a padded (not packed) input runs whole
  in the region's dtype (oneDNN's LSTM layer): its output, ``h_n`` and ``c_n`` are low
  precision. GRU, RNN, the other LSTMs and the cells cast each matrix product: a GRU's
  output and state, and an LSTM's cell state, stay float32; an RNN's are low precision.

Gradients reach float32 parameters in float32. float64 and integer tensors, and tensors on
other device types, are never cast.

Examples
--------
>>> import flambeau
>>> from flambeau import amp
>>> with amp.autocast("cpu"):
...     y = flambeau.ones(2, 2) @ flambeau.ones(2, 2)
>>> y.dtype
flambeau.bfloat16
"""

from flambeau.amp._autocast import (
    autocast,
    get_autocast_dtype,
    is_autocast_enabled,
)
from flambeau.amp._custom import custom_bwd, custom_fwd, is_autocast_available
from flambeau.amp._grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "custom_fwd",
           "custom_bwd", "is_autocast_available"]
