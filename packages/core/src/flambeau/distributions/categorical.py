"""``torch.distributions.categorical`` compatibility: ``Categorical`` under its torch module
path."""

from flambeau.distributions._categorical import Categorical

__all__ = ["Categorical"]
