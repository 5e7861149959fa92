"""The module path ``torch.distributions.lowrank_multivariate_normal``."""

from flambeau.distributions._multivariate_normal import LowRankMultivariateNormal

__all__ = ["LowRankMultivariateNormal"]
