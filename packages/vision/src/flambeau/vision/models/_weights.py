"""Loading local weight files (safetensors, torchvision .pth, flambeau checkpoints)."""

from __future__ import annotations

import os

import flambeau

__all__ = ["load_weights"]


def load_weights(model, weights, strict: bool = True):
    """Load a local weight file into ``model`` with :func:`flambeau.load` and return it.

    ``weights`` is ``None`` (nothing is loaded), a path to a safetensors file or a
    torchvision ``.pth`` state_dict (read safely: no code in the file runs), a path to a
    checkpoint written by ``python -m flambeau.vision.train`` (its ``"model"`` entry is
    used), or a state_dict already in memory.

    Examples
    --------
    >>> import tempfile, os, flambeau
    >>> from flambeau.vision.models import lenet, load_weights
    >>> path = os.path.join(tempfile.mkdtemp(), "lenet.pt")
    >>> flambeau.save(lenet().state_dict(), path)
    >>> _ = load_weights(lenet(), path)
    """
    if weights is None:
        return model
    if isinstance(weights, (str, os.PathLike)):
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"{type(model).__name__}: weights file not found: {weights}; "
                                    "weights= takes a local file (safetensors or .pth)")
        state = flambeau.load(weights, map_location="cpu")
    elif isinstance(weights, dict):
        state = weights
    else:
        raise TypeError(f"{type(model).__name__}: weights must be a file path or a state_dict, "
                        f"got {type(weights).__name__}")
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise TypeError(f"{type(model).__name__}: {weights} does not hold a state_dict "
                        f"(got {type(state).__name__})")
    model.load_state_dict(state, strict=strict)
    return model
