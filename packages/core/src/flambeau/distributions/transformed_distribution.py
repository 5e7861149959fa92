"""The module path ``torch.distributions.transformed_distribution``."""

from flambeau.distributions._transformed import TransformedDistribution

__all__ = ["TransformedDistribution"]
