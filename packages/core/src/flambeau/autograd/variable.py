"""``flambeau.autograd.variable``: where PyTorch code imports the legacy ``Variable``
(``from torch.autograd.variable import Variable``); see :class:`flambeau.autograd.Variable`.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.variable import Variable
>>> Variable is flambeau.autograd.Variable
True
"""

from flambeau.autograd._variable import Variable  # noqa: F401 - re-exported

__all__ = ["Variable"]
