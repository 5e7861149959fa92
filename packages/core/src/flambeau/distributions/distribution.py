"""The module path ``torch.distributions.distribution``."""

from flambeau.distributions._distribution import Distribution

__all__ = ["Distribution"]
