"""The module path ``torch.distributions.chi2``."""

from flambeau.distributions._gamma_family import Chi2

__all__ = ["Chi2"]
