"""The module path ``torch.distributions.multivariate_normal``."""

from flambeau.distributions._multivariate_normal import MultivariateNormal

__all__ = ["MultivariateNormal"]
