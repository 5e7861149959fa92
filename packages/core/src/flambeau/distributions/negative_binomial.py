"""The module path ``torch.distributions.negative_binomial``."""

from flambeau.distributions._discrete import NegativeBinomial

__all__ = ["NegativeBinomial"]
