"""flambeau.storage: PyTorch's ``torch.storage`` (:class:`TypedStorage` and
:class:`UntypedStorage`, also at the top level).

Examples
--------
>>> import flambeau
>>> from flambeau.storage import UntypedStorage
>>> UntypedStorage(2).nbytes()
2
"""

from flambeau._storage import TypedStorage, UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]
