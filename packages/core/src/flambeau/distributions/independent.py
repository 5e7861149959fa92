"""The module path ``torch.distributions.independent``."""

from flambeau.distributions._independent import Independent

__all__ = ["Independent"]
