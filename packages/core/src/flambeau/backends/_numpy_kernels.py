"""Named kernels of the NumPy backend, where a NumPy formulation beats the generic one."""

from __future__ import annotations

import numpy as np

__all__ = ["index_add_at"]

# A round costs about as much as np.add.at spends on 16 rows: rounds pay off while there
# are fewer of them than a sixteenth of the rows (and always up to 8).
_MIN_ROUNDS_ALLOWED = 8
_ROWS_PER_ROUND = 16


def index_add_at(target, index, values):
    """``numpy.add.at(target, index, values)``; rows scattered by one integer vector go
    through fancy assignment in rounds.

    ``np.add.at`` handles one index at a time (1.7 ms for 1,120 embedding rows of 128).
    Sorting the index (stably) gives each repeated index a rank; round ``k`` adds every
    index's ``k``-th row at once, and those indices are distinct within a round, so the sums
    are added in the order of ``add.at``, to the bit.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((3, 2))
    >>> index_add_at(z, np.array([2, 0, 2]), np.ones((3, 2)))
    >>> z
    array([[1., 1.],
           [0., 0.],
           [2., 2.]])
    """
    if not (isinstance(index, np.ndarray) and index.ndim == 1 and index.dtype.kind in "iu"
            and index.size > 1 and values.shape == index.shape + target.shape[1:]):
        np.add.at(target, index, values)
        return
    index = np.where(index < 0, index + target.shape[0], index)  # -1 and n-1: one row
    order = np.argsort(index, kind="stable")
    rows = index[order]
    first = np.empty(rows.size, dtype=bool)
    first[0] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.append(starts, rows.size)))
    rounds = int(rank.max()) + 1
    if rounds > max(_MIN_ROUNDS_ALLOWED, rows.size // _ROWS_PER_ROUND):
        np.add.at(target, index, values)
        return
    ordered = values[order]
    for k in range(rounds):
        pick = first if k == 0 else rank == k
        target[rows[pick]] += ordered[pick]
