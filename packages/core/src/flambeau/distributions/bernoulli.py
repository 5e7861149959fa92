"""``torch.distributions.bernoulli`` compatibility: ``Bernoulli`` under its torch module path."""

from flambeau.distributions._bernoulli import Bernoulli

__all__ = ["Bernoulli"]
