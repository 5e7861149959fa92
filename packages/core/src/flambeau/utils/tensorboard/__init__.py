"""TensorBoard logging (PyTorch's ``torch.utils.tensorboard``): :class:`SummaryWriter`.

The event files are written by flambeau itself (the protocol buffer messages and the
TFRecord framing with its masked CRC-32C), so neither tensorboard nor protobuf is needed to
write them; install ``tensorboard`` to look at them.

Examples
--------
>>> import tempfile
>>> from flambeau.utils.tensorboard import SummaryWriter
>>> with SummaryWriter(tempfile.mkdtemp()) as writer:
...     writer.add_scalar("loss", 0.25, 1)
"""

from flambeau.utils.tensorboard._writer import SummaryWriter

__all__ = ["SummaryWriter"]
