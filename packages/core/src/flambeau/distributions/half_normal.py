"""The module path ``torch.distributions.half_normal``."""

from flambeau.distributions._transformed import HalfNormal

__all__ = ["HalfNormal"]
