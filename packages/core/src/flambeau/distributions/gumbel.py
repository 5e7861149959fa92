"""The module path ``torch.distributions.gumbel``."""

from flambeau.distributions._transformed import Gumbel

__all__ = ["Gumbel"]
