"""The module path ``torch.distributions.laplace``."""

from flambeau.distributions._continuous import Laplace

__all__ = ["Laplace"]
