"""The module path ``torch.distributions.poisson``."""

from flambeau.distributions._discrete import Poisson

__all__ = ["Poisson"]
