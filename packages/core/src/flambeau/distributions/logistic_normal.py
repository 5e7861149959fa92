"""The module path ``torch.distributions.logistic_normal``."""

from flambeau.distributions._transformed import LogisticNormal

__all__ = ["LogisticNormal"]
