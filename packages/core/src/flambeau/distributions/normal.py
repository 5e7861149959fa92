"""``torch.distributions.normal`` compatibility: ``Normal`` under its torch module path."""

from flambeau.distributions._normal import Normal

__all__ = ["Normal"]
