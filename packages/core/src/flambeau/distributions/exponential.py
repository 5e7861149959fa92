"""The module path ``torch.distributions.exponential``."""

from flambeau.distributions._continuous import Exponential

__all__ = ["Exponential"]
