"""PyTorch programs on flambeau: every program of this folder runs unchanged on torch, then
with its imports ported (``flambeau.testing.port_torch_program``) on flambeau, and what its
``main()`` returns (losses per step, final parameters, predictions) must agree within float32
tolerances. See README.md for the why and for how to add a program."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from flambeau.testing import port_torch_program

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

HERE = Path(__file__).parent
# Files starting with "_" are helpers: `_common` is ported with the programs that import it.
PROGRAMS = sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith(("_", "test_")))
HELPERS = ("_common",)
RTOL, ATOL = 1e-4, 1e-5  # float32 over a few steps of training
# Where a program's numbers amplify float32 rounding more than that, and why.
TOLERANCES: dict[str, tuple[float, float]] = {
    # bfloat16 under autocast keeps 8 bits of mantissa: gradients rounded to bfloat16 in a
    # different order move the weights by a fraction of its ulp (2**-8), not of float32's
    "amp_regression": (4e-3, 4e-4),
    # grid_sample's output moves with the image's slope (pixel steps of ~1 over 2/16 of grid
    # coordinate) times theta's float32 differences after training: 10x the usual atol
    "spatial_transformer": (1e-4, 1e-4),
}


def load(name: str, framework: str) -> types.ModuleType:
    """This folder's ``name``.py executed as a module, its imports ported when ``framework``
    is ``"flambeau"``; the file name stays in tracebacks and line numbers are the file's."""
    path = HERE / f"{name}.py"
    source = path.read_text(encoding="utf-8")
    if framework == "flambeau":
        source = port_torch_program(source)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102
    return module


def run_program(name: str, framework: str) -> dict:
    """``main()`` of program ``name`` on ``framework``, its helpers loaded for that framework
    (and torchvision's stand-in on torch where torchvision is not installed)."""
    shadowed = (*HELPERS, "torchvision", "torchvision.transforms")
    saved = {key: sys.modules.get(key) for key in shadowed}
    threads = torch.get_num_threads()
    try:
        for helper in HELPERS:
            sys.modules[helper] = load(helper, framework)
        if framework == "torch" and importlib.util.find_spec("torchvision") is None:
            torchvision = load("_torchvision_stand_in", "torch").make(torch)
            sys.modules["torchvision"] = torchvision
            sys.modules["torchvision.transforms"] = torchvision.transforms
        # One thread: the programs are tiny, and on a loaded machine torch's thread pool
        # made one of them 70x slower; it also makes the rounding the same from run to run.
        torch.set_num_threads(1)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # the deprecated forms some programs use on purpose
            return load(name, framework).main()
    finally:
        torch.set_num_threads(threads)
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module


def leaves(value, path: str = "records"):
    """``(path, value)`` for each number or tensor of a program's records, in order, so that
    the first divergence reported is the earliest step's."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def as_array(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def divergences(name: str, theirs: dict, ours: dict, rtol: float, atol: float) -> list[str]:
    """One line per recorded value where flambeau's run differs from torch's: the program,
    the value's path in the records (a list index is the step) and how it differs."""
    expected = {path: as_array(value) for path, value in leaves(theirs)}
    found = {path: as_array(value) for path, value in leaves(ours)}
    lines = [f"{name}: {path} recorded by torch only" for path in expected.keys() - found.keys()]
    lines += [f"{name}: {path} recorded by flambeau only" for path in found.keys() - expected]
    for path, want in expected.items():
        got = found.get(path)
        if got is None:
            continue
        if "U" in (got.dtype.kind, want.dtype.kind):  # a recorded string: a dtype's name...
            if got.tolist() != want.tolist():
                lines.append(f"{name}: {path} differs: flambeau {got.tolist()!r} vs torch "
                             f"{want.tolist()!r}")
        elif got.shape != want.shape:
            lines.append(f"{name}: {path} has shape {got.shape} on flambeau, {want.shape} on "
                         "torch")
        elif got.dtype != want.dtype:
            lines.append(f"{name}: {path} has dtype {got.dtype} on flambeau, {want.dtype} on "
                         "torch")
        elif not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            at = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.ndim else ()
            lines.append(
                f"{name}: {path} diverged: flambeau {got[at].item()!r} vs torch {want[at].item()!r}"
                f"{f' at index {tuple(map(int, at))}' if at else ''} (max |diff| "
                f"{np.nanmax(diff):.3g}; rtol={rtol:g}, atol={atol:g})")
    return lines


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_on_flambeau_matches_torch(name):
    theirs = run_program(name, "torch")
    ours = run_program(name, "flambeau")
    # each run must really have run on its framework, or the comparison proves nothing
    for framework, records in (("torch", theirs), ("flambeau", ours)):
        kinds = {type(value).__module__.partition(".")[0] for _, value in leaves(records)
                 if hasattr(value, "detach")}
        assert kinds == {framework}, f"{name}: the {framework} run recorded tensors of {kinds}"
    rtol, atol = TOLERANCES.get(name, (RTOL, ATOL))
    found = divergences(name, theirs, ours, rtol, atol)
    assert not found, "\n".join(found[:10]) + (f"\n... {len(found) - 10} more"
                                                if len(found) > 10 else "")


def test_a_divergence_names_the_program_the_step_and_the_value():
    theirs = {"loss": [1.0, 0.5, 0.25], "params": {"w": torch.zeros(2, 2)}, "acc": 3}
    ours = {"loss": [1.0, 0.5, 0.3], "params": {"w": torch.eye(2)}, "extra": 1.0, "acc": 3}
    assert divergences("prog", theirs, ours, RTOL, ATOL) == [
        "prog: records['extra'] recorded by flambeau only",
        "prog: records['loss'][2] diverged: flambeau 0.3 vs torch 0.25 "
        "(max |diff| 0.05; rtol=0.0001, atol=1e-05)",
        "prog: records['params']['w'] diverged: flambeau 1.0 vs torch 0.0 at index (0, 0) "
        "(max |diff| 1; rtol=0.0001, atol=1e-05)",
    ]
    assert divergences("prog", {"w": torch.zeros(2)}, {"w": torch.zeros(3)}, RTOL, ATOL) == [
        "prog: records['w'] has shape (3,) on flambeau, (2,) on torch"]
    assert divergences("prog", {"w": torch.zeros(2)}, {"w": torch.zeros(2).double()}, RTOL,
                       ATOL) == ["prog: records['w'] has dtype float64 on flambeau, float32 on "
                                 "torch"]
    assert divergences("prog", {"dtype": "float32"}, {"dtype": "bfloat16"}, RTOL, ATOL) == [
        "prog: records['dtype'] differs: flambeau 'bfloat16' vs torch 'float32'"]
    assert divergences("prog", theirs, theirs, RTOL, ATOL) == []


def test_every_program_is_plain_pytorch():
    """A program is plain PyTorch: no flambeau import, a main() and a __main__ guard."""
    for name in PROGRAMS:
        source = (HERE / f"{name}.py").read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+flambeau", source, re.MULTILINE), name
        assert "def main(" in source and 'if __name__ == "__main__":' in source, name
