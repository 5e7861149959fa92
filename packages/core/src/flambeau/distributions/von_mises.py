"""The module path ``torch.distributions.von_mises``."""

from flambeau.distributions._von_mises import VonMises

__all__ = ["VonMises"]
