"""torch.set_autocast_* and autocast_{increment,decrement}_nesting: the state an autocast
region keeps, set directly; each answer compared with torch's."""

import threading
import warnings

import pytest

import flambeau
from flambeau.amp import _autocast
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
# the setters switch the CPU's autocast: its ops run on CPU tensors, whatever the run's
# default device
pytestmark = pytest.mark.usefixtures("cpu_default")


@pytest.fixture(autouse=True)
def _restore():
    yield
    for lib in (flambeau, torch) if torch is not None else (flambeau,):
        lib.set_autocast_enabled("cpu", False)
        lib.set_autocast_enabled("cuda", False)
        lib.set_autocast_dtype("cpu", lib.bfloat16)
        lib.set_autocast_dtype("cuda", lib.float16)
        lib.set_autocast_cache_enabled(True)


def _name(dtype):
    return str(dtype).split(".")[-1]


def test_set_autocast_enabled_turns_ops_low_precision_until_turned_off():
    a = flambeau.ones(2, 2)
    flambeau.set_autocast_enabled("cpu", True)
    assert flambeau.is_autocast_enabled("cpu") and not flambeau.is_autocast_enabled("cuda")
    assert (a @ a).dtype == flambeau.bfloat16
    flambeau.set_autocast_enabled("cpu", False)
    assert not flambeau.is_autocast_enabled("cpu")
    assert (a @ a).dtype == flambeau.float32
    if torch is not None:
        torch.set_autocast_enabled("cpu", True)
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


def test_one_argument_form_is_cuda_and_a_region_restores_the_state():
    for lib in (flambeau, torch) if torch is not None else (flambeau,):
        lib.set_autocast_enabled(True)
        assert lib.is_autocast_enabled("cuda") and lib.is_autocast_enabled()
        with lib.autocast("cpu", enabled=False):
            lib.set_autocast_enabled("cuda", False)
            lib.set_autocast_enabled("cpu", True)
            assert lib.is_autocast_enabled("cpu")
        # the cpu region restores the cpu state; cuda's, set inside, stays
        assert not lib.is_autocast_enabled("cuda") and not lib.is_autocast_enabled("cpu")


def test_the_switch_is_per_thread():
    flambeau.set_autocast_enabled("cpu", True)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(
        (flambeau.ones(1, 1) @ flambeau.ones(1, 1)).dtype))
    thread.start()
    thread.join()
    assert seen == [flambeau.float32]


def test_set_autocast_dtype_is_what_regions_and_get_autocast_dtype_use():
    flambeau.set_autocast_dtype("cpu", flambeau.float16)
    assert flambeau.get_autocast_dtype("cpu") == flambeau.float16
    with flambeau.autocast("cpu"):
        assert (flambeau.ones(2, 2) @ flambeau.ones(2, 2)).dtype == flambeau.float16
    flambeau.set_autocast_enabled("cpu", True)
    flambeau.set_autocast_dtype("cpu", flambeau.bfloat16)  # changes the enabled state too
    assert (flambeau.ones(2, 2) @ flambeau.ones(2, 2)).dtype == flambeau.bfloat16
    if torch is not None:
        torch.set_autocast_dtype("cpu", torch.float16)
        with torch.autocast("cpu"):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float16


@pytest.mark.parametrize("name, args", [
    ("set_autocast_cpu_enabled", (True,)), ("set_autocast_cpu_dtype", ("float16",)),
    ("set_autocast_gpu_dtype", ("bfloat16",))])
def test_deprecated_setters_warn_and_set(name, args):
    answers = []
    for lib in (flambeau, torch) if torch is not None else (flambeau,):
        value = args[0] if isinstance(args[0], bool) else getattr(lib, args[0])
        with pytest.warns(DeprecationWarning, match=f"{name}.*is deprecated"):
            getattr(lib, name)(value)
        answers.append((lib.is_autocast_enabled("cpu"), _name(lib.get_autocast_dtype("cpu")),
                        _name(lib.get_autocast_dtype("cuda"))))
    assert len(set(answers)) == 1
    assert answers[0] != (False, "bfloat16", "float16")


def test_cache_switch():
    flambeau.set_autocast_cache_enabled(False)
    assert not flambeau.is_autocast_cache_enabled()
    flambeau.set_autocast_cache_enabled(True)
    assert flambeau.is_autocast_cache_enabled()


def test_nesting_counts_and_may_go_negative_as_torch():
    ours = [flambeau.autocast_decrement_nesting(), flambeau.autocast_increment_nesting(),
            flambeau.autocast_increment_nesting(), flambeau.autocast_decrement_nesting()]
    assert ours == [-1, 0, 1, 0]
    if torch is not None:
        theirs = [torch.autocast_decrement_nesting(), torch.autocast_increment_nesting(),
                  torch.autocast_increment_nesting(), torch.autocast_decrement_nesting()]
        assert ours == theirs
    with flambeau.autocast("cpu"):
        assert flambeau.autocast_increment_nesting() == 2
        assert flambeau.autocast_decrement_nesting() == 1
    assert _autocast._state.depth == 0


@pytest.mark.parametrize("call, error, match", [
    (lambda lib: lib.set_autocast_enabled("cpu", 1), TypeError,
     r"set_autocast_enabled\(\): argument 'enabled' \(position 2\) must be bool, not int"),
    (lambda lib: lib.set_autocast_enabled(1), TypeError,
     r"set_autocast_enabled\(\): argument 'enabled' \(position 1\) must be bool, not int"),
    (lambda lib: lib.set_autocast_enabled(0, True), TypeError,
     r"argument 'device_type' \(position 1\) must be str, not int"),
    (lambda lib: lib.set_autocast_dtype("cpu", 3), TypeError,
     r"set_autocast_dtype\(\): argument 'dtype' \(position 2\) must be \w+.dtype, not int"),
    (lambda lib: lib.set_autocast_dtype(None, lib.float16), TypeError,
     r"argument 'device_type' \(position 1\) must be str, not NoneType"),
    (lambda lib: lib.set_autocast_cache_enabled(1), TypeError,
     r"enabled must be a bool \(got int\)"),
    (lambda lib: lib.set_autocast_enabled("foo", True), RuntimeError,
     r"xpected one of cpu, cuda, .* device type at start of device string: foo"),
    (lambda lib: lib.set_autocast_dtype("gpu:0", lib.float16), RuntimeError,
     r"xpected one of cpu, cuda, .* device type at start of device string: gpu"),
])
def test_errors_match_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(flambeau)
    if torch is not None and "device_type" not in match:
        with pytest.raises(error, match=match.replace(r"\w+.dtype", "torch.dtype")):
            call(torch)


@pytest.mark.parametrize("name, value", [("set_autocast_cpu_enabled", 1),
                                         ("set_autocast_gpu_dtype", "float16")])
def test_deprecated_setters_check_their_argument(name, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match=f"{name}\\(\\): argument .* \\(position 1\\) must"):
            getattr(flambeau, name)(value)


def test_a_region_restores_its_own_device_type_only_as_torch():
    for lib in (flambeau, torch) if torch is not None else (flambeau,):
        with lib.autocast("cpu"):
            lib.set_autocast_enabled("cuda", True)
            lib.set_autocast_dtype("cuda", lib.bfloat16)
        assert lib.is_autocast_enabled("cuda") and not lib.is_autocast_enabled("cpu")
        assert _name(lib.get_autocast_dtype("cuda")) == "bfloat16"
        lib.set_autocast_enabled("cuda", False)


def test_autocast_switched_off_costs_ops_nothing_again():
    # a setter's state is counted in ``active`` (what every op tests first) only while on
    assert _autocast.active == 0
    with flambeau.autocast("cpu"):
        flambeau.set_autocast_enabled("cuda", True)
    assert _autocast.active == 1
    flambeau.set_autocast_enabled("cuda", False)
    assert _autocast.active == 0
    flambeau.set_autocast_enabled("cpu", True)
    with flambeau.autocast("cpu"):
        flambeau.set_autocast_enabled("cpu", False)
    assert flambeau.is_autocast_enabled("cpu") and _autocast.active == 1
    with flambeau.autocast("cpu", enabled=False):
        pass
    flambeau.set_autocast_enabled("cpu", False)
    assert _autocast.active == 0
