"""The module path ``torch.distributions.lkj_cholesky``."""

from flambeau.distributions._lkj import LKJCholesky

__all__ = ["LKJCholesky"]
