"""The module path ``torch.distributions.generalized_pareto``."""

from flambeau.distributions._generalized_pareto import GeneralizedPareto

__all__ = ["GeneralizedPareto"]
