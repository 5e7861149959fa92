"""The module path ``torch.distributions.binomial``."""

from flambeau.distributions._discrete import Binomial

__all__ = ["Binomial"]
