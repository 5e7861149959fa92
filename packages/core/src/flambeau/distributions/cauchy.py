"""The module path ``torch.distributions.cauchy``."""

from flambeau.distributions._continuous import Cauchy

__all__ = ["Cauchy"]
