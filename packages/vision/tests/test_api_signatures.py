"""The API surface of flambeau.vision against torchvision's: every name both have takes the
same parameters (names, order, kinds, defaults).

Runs where torchvision imports (it is never a dependency of flambeau-vision). torchvision
has many models and datasets flambeau does not (see the package README); this checks
that what exists in both is spelled the same.
"""

import enum
import importlib
import inspect

import pytest

from flambeau.testing import signature_of

pytestmark = pytest.mark.parity

try:  # a torchvision built for another torch raises more than ImportError
    torchvision = importlib.import_module("torchvision")
except Exception as exc:  # noqa: BLE001
    pytest.skip(f"torchvision is not importable: {exc}", allow_module_level=True)

MODULES = ["transforms", "transforms.functional", "models", "datasets", "io"]

# signatures that differ on purpose: none so far
SIGNATURE_OK = set()




def _shared():
    out = []
    for sub in MODULES:
        theirs = importlib.import_module(f"torchvision.{sub}")
        ours = importlib.import_module(f"flambeau.vision.{sub}")
        names = getattr(theirs, "__all__", None) or [n for n in dir(theirs) if n[0] != "_"]
        out += [(sub, n) for n in names if hasattr(ours, n) and callable(getattr(theirs, n))
                and not isinstance(getattr(theirs, n), type(inspect))]
    return out


SHARED = _shared()


def _pair(sub, name):
    return (getattr(importlib.import_module(f"torchvision.{sub}"), name),
            getattr(importlib.import_module(f"flambeau.vision.{sub}"), name))


def test_the_names_of_this_sweep_exist():
    shared = {n for _, n in SHARED}
    assert {"adjust_gamma", "get_image_size", "get_image_num_channels", "resnet152",
            "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
            "wide_resnet101_2", "list_models"} <= shared


@pytest.mark.parametrize("sub,name", [p for p in SHARED if p[1] not in SIGNATURE_OK])
def test_signatures_match(sub, name):
    theirs, ours = _pair(sub, name)
    if inspect.isclass(theirs) and issubclass(theirs, enum.Enum):
        assert [m.name for m in ours] == [m.name for m in theirs]
        return
    assert signature_of(ours) == signature_of(theirs)


@pytest.mark.parametrize("sub,name", [p for p in SHARED if inspect.isclass(_pair(*p)[0])])
def test_call_signatures_match(sub, name):
    theirs, ours = _pair(sub, name)
    # a transform is called through __call__ (plain classes) or forward (nn.Modules)
    for method in ("__call__", "forward"):
        if method in vars(theirs) and hasattr(ours, method):
            assert signature_of(ours, method) == signature_of(theirs, method), method
