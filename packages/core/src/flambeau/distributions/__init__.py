"""Probability distributions with PyTorch's ``torch.distributions`` API.

Each distribution is parameterized by tensors (broadcast together), samples with flambeau's
random generators, and computes ``log_prob``, ``entropy`` and friends with flambeau ops, so
they are differentiable w.r.t. the parameters; ``rsample`` gives reparameterized samples.

Examples
--------
>>> import flambeau
>>> from flambeau.distributions import Normal, kl_divergence
>>> p = Normal(flambeau.tensor(0.0), flambeau.tensor(1.0))
>>> p.log_prob(flambeau.tensor(0.0))
tensor(-0.9189)
>>> kl_divergence(p, Normal(0.0, 2.0))
tensor(0.3181)
"""

from flambeau.distributions import (
    _kl_pairs,  # noqa: F401 - registers the KL pairs of the univariate distributions
    constraint_registry,
    constraints,
    kl,
    transforms,
)
from flambeau.distributions._bernoulli import Bernoulli
from flambeau.distributions._categorical import (
    Categorical,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from flambeau.distributions._continuous import Cauchy, Exponential, Laplace
from flambeau.distributions._continuous_bernoulli import ContinuousBernoulli
from flambeau.distributions._discrete import (
    Binomial,
    Geometric,
    Multinomial,
    NegativeBinomial,
    Poisson,
)
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._gamma_derived import FisherSnedecor, InverseGamma
from flambeau.distributions._gamma_family import Beta, Chi2, Dirichlet, Gamma, StudentT
from flambeau.distributions._generalized_pareto import GeneralizedPareto
from flambeau.distributions._independent import Independent
from flambeau.distributions._kumaraswamy import Kumaraswamy
from flambeau.distributions._lkj import LKJCholesky
from flambeau.distributions._mixture import MixtureSameFamily
from flambeau.distributions._multivariate_normal import (
    LowRankMultivariateNormal,
    MultivariateNormal,
)
from flambeau.distributions._normal import Normal
from flambeau.distributions._relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from flambeau.distributions._transformed import (
    Gumbel,
    HalfCauchy,
    HalfNormal,
    LogisticNormal,
    LogNormal,
    Pareto,
    TransformedDistribution,
    Weibull,
)
from flambeau.distributions._uniform import Uniform
from flambeau.distributions._von_mises import VonMises
from flambeau.distributions._wishart import Wishart
from flambeau.distributions.constraint_registry import biject_to, transform_to
from flambeau.distributions.kl import kl_divergence, register_kl
from flambeau.distributions.transforms import *  # noqa: F403

__all__ = [
    "Distribution",
    "ExponentialFamily",
    "Normal",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "Dirichlet",
    "Exponential",
    "Gamma",
    "Geometric",
    "Laplace",
    "Multinomial",
    "NegativeBinomial",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Poisson",
    "StudentT",
    "Uniform",
    "constraints",
    "kl",
    "kl_divergence",
    "register_kl",
    # helper B: transforms, transformed / composite / multivariate distributions
    "Independent",
    "TransformedDistribution",
    "LogNormal",
    "HalfNormal",
    "LogisticNormal",
    "MultivariateNormal",
    "LowRankMultivariateNormal",
    "HalfCauchy",
    "Gumbel",
    "Weibull",
    "Pareto",
    "constraint_registry",
    "transforms",
    "biject_to",
    "transform_to",
    "MixtureSameFamily",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ContinuousBernoulli",
    "Kumaraswamy",
    "InverseGamma",
    "FisherSnedecor",
    "VonMises",
    "GeneralizedPareto",
    "Wishart",
    "LKJCholesky",
    *transforms.__all__,
]
