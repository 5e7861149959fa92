"""The module path ``torch.distributions.inverse_gamma``."""

from flambeau.distributions._gamma_derived import InverseGamma

__all__ = ["InverseGamma"]
