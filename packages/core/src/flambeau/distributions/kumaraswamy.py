"""The module path ``torch.distributions.kumaraswamy``."""

from flambeau.distributions._kumaraswamy import Kumaraswamy

__all__ = ["Kumaraswamy"]
