"""flambeau.nn.functional: the functional form of every layer, activation and loss.

Examples
--------
>>> import flambeau
>>> import flambeau.nn.functional as F
>>> F.relu(flambeau.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from flambeau import _keywords
from flambeau.nn.functional import (  # noqa: E402  # noqa: E402  # noqa: E402
                              _activation,
                              _attention,
                              _conv,
                              _ctc,
                              _dropout,
                              _embedding,
                              _fractional,
                              _grid,
                              _gumbel,
                              _linear,
                              _linear_cross_entropy,
                              _loss,
                              _misc,
                              _norm,
                              _pool,
                              _vision,
)
from flambeau.nn.functional._activation import *  # noqa: F403
from flambeau.nn.functional._attention import *  # noqa: F403
from flambeau.nn.functional._conv import *  # noqa: F403
from flambeau.nn.functional._ctc import *  # noqa: F403
from flambeau.nn.functional._dropout import *  # noqa: F403
from flambeau.nn.functional._embedding import *  # noqa: F403
from flambeau.nn.functional._fractional import *  # noqa: F403
from flambeau.nn.functional._grid import *  # noqa: F403
from flambeau.nn.functional._gumbel import *  # noqa: F403
from flambeau.nn.functional._linear import *  # noqa: F403
from flambeau.nn.functional._linear_cross_entropy import *  # noqa: F403
from flambeau.nn.functional._loss import *  # noqa: F403
from flambeau.nn.functional._misc import *  # noqa: F403
from flambeau.nn.functional._norm import *  # noqa: F403
from flambeau.nn.functional._pool import *  # noqa: F403
from flambeau.nn.functional._vision import *  # noqa: F403

__all__ = sorted({n for m in (_activation, _attention, _conv, _ctc, _dropout, _embedding, _grid,
                              _fractional, _gumbel, _linear, _linear_cross_entropy, _loss,
                              _misc, _norm, _pool, _vision) for n in m.__all__})

# torch's are C functions, whose argument parser takes axis=/keepdims= for dim/keepdim (core's
# ops take them the same way: flambeau._keywords); the rest of torch's functional is Python
for _name in ("cosine_similarity", "pairwise_distance"):
    globals()[_name] = _keywords.accepting_aliases(globals()[_name], _name, module=__name__)
del _name
