"""The module path ``torch.distributions.mixture_same_family``."""

from flambeau.distributions._mixture import MixtureSameFamily

__all__ = ["MixtureSameFamily"]
