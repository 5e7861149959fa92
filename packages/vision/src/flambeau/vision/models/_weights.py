"""Loading weights into a model: pretrained ones by name, local files, state_dicts."""

from __future__ import annotations

import os

import flambeau
from flambeau.vision.models._weight_enums import _ADAPTERS, WeightsEnum, _resolve

__all__ = ["load_weights"]


def _build(builder: str, make, weights, progress: bool, kwargs: dict):
    """``make(**kwargs)`` with ``weights`` loaded: what every builder does."""
    weights = _resolve(builder, weights, kwargs)
    model = make(**kwargs)
    if isinstance(weights, WeightsEnum) and builder in _ADAPTERS:
        state = weights.get_state_dict(progress=progress, check_hash=True, map_location="cpu")
        weights = _ADAPTERS[builder](state)
    return load_weights(model, weights, progress=progress)


def load_weights(model, weights, strict: bool = True, progress: bool = True):
    """Load weights into ``model`` and return it.

    ``weights`` is ``None`` (nothing is loaded), a :class:`WeightsEnum` member
    (``ResNet18_Weights.DEFAULT``: downloaded once into the hub cache, its hash checked), a
    path to a safetensors file or a torchvision ``.pth`` state_dict (read safely: no code in
    the file runs), a path to a checkpoint written by ``python -m flambeau.vision.train``
    (its ``"model"`` entry is used), or a state_dict already in memory. ``progress`` shows a
    progress bar while downloading.

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
    if isinstance(weights, WeightsEnum):
        state = weights.get_state_dict(progress=progress, check_hash=True, map_location="cpu")
    elif isinstance(weights, (str, os.PathLike)):
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"{type(model).__name__}: weights file not found: {weights}; "
                                    "weights= takes a local file (safetensors or .pth), "
                                    "a weights enum member or its name (e.g. 'DEFAULT')")
        state = flambeau.load(weights, map_location="cpu")
    elif isinstance(weights, dict):
        state = weights
    else:
        raise TypeError(f"{type(model).__name__}: weights must be a weights enum member, a "
                        f"file path or a state_dict, got {type(weights).__name__}")
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise TypeError(f"{type(model).__name__}: {weights} does not hold a state_dict "
                        f"(got {type(state).__name__})")
    model.load_state_dict(state, strict=strict)
    return model
