"""The module path ``torch.distributions.exp_family``."""

from flambeau.distributions._distribution import ExponentialFamily

__all__ = ["ExponentialFamily"]
