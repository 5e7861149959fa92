"""The module path ``torch.distributions.half_cauchy``."""

from flambeau.distributions._transformed import HalfCauchy

__all__ = ["HalfCauchy"]
