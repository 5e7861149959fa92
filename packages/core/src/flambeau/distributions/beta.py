"""The module path ``torch.distributions.beta``."""

from flambeau.distributions._gamma_family import Beta

__all__ = ["Beta"]
