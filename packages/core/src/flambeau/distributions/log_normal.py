"""The module path ``torch.distributions.log_normal``."""

from flambeau.distributions._transformed import LogNormal

__all__ = ["LogNormal"]
