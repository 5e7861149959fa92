"""The module path ``torch.distributions.weibull``."""

from flambeau.distributions._transformed import Weibull

__all__ = ["Weibull"]
