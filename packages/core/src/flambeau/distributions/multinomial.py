"""The module path ``torch.distributions.multinomial``."""

from flambeau.distributions._discrete import Multinomial

__all__ = ["Multinomial"]
