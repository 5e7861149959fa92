"""``torch.distributions.uniform`` compatibility: ``Uniform`` under its torch module path."""

from flambeau.distributions._uniform import Uniform

__all__ = ["Uniform"]
