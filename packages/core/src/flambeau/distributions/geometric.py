"""The module path ``torch.distributions.geometric``."""

from flambeau.distributions._discrete import Geometric

__all__ = ["Geometric"]
