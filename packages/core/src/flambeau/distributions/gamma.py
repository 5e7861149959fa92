"""The module path ``torch.distributions.gamma``."""

from flambeau.distributions._gamma_family import Gamma

__all__ = ["Gamma"]
