"""``torch.distributions.relaxed_bernoulli`` compatibility: ``RelaxedBernoulli`` and its
logit-space base ``LogitRelaxedBernoulli`` under their torch module path."""

from flambeau.distributions._relaxed import LogitRelaxedBernoulli, RelaxedBernoulli

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
