"""The module path ``torch.distributions.wishart``."""

from flambeau.distributions._wishart import Wishart

__all__ = ["Wishart"]
