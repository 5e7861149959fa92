"""The module path ``torch.distributions.pareto``."""

from flambeau.distributions._transformed import Pareto

__all__ = ["Pareto"]
