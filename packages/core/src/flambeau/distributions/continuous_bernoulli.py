"""The module path ``torch.distributions.continuous_bernoulli``."""

from flambeau.distributions._continuous_bernoulli import ContinuousBernoulli

__all__ = ["ContinuousBernoulli"]
