"""The module path ``torch.distributions.dirichlet``."""

from flambeau.distributions._gamma_family import Dirichlet

__all__ = ["Dirichlet"]
