"""``torch.distributions.relaxed_categorical`` compatibility: ``RelaxedOneHotCategorical``
and its log-space base ``ExpRelaxedCategorical`` under their torch module path."""

from flambeau.distributions._relaxed import ExpRelaxedCategorical, RelaxedOneHotCategorical

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
