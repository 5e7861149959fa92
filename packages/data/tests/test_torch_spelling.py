"""``torch.utils.data`` spellings: flambeau.utils.data is flambeau.data under PyTorch's name."""

import importlib
import pickle
import subprocess
import sys

import pytest

import flambeau
import flambeau.data as fdata

SUBMODULES = {
    "dataset": ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
                "Subset", "TensorDataset", "random_split"],
    "sampler": ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
                "SubsetRandomSampler", "WeightedRandomSampler"],
    "dataloader": ["DataLoader", "default_collate", "default_convert", "get_worker_info"],
    "distributed": ["DistributedSampler"],
}


def test_every_public_name_is_the_same_object():
    import flambeau.utils.data as udata

    assert udata.__all__ == fdata.__all__
    for name in fdata.__all__:
        assert getattr(udata, name) is getattr(fdata, name), name


@pytest.mark.parametrize("sub", sorted(SUBMODULES))
def test_submodules_mirror_torch(sub):
    module = importlib.import_module(f"flambeau.utils.data.{sub}")
    for name in SUBMODULES[sub]:
        assert getattr(module, name) is getattr(fdata, name), (sub, name)


def test_reached_from_a_bare_import_as_torch_is():
    # a fresh interpreter: nothing but ``import flambeau`` has run
    code = ("import flambeau as torch; import flambeau.data as d; "
            "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset("
            "torch.arange(5)), batch_size=2); "
            "print([b[0].tolist() for b in loader], torch.utils.data.Dataset is d.Dataset)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[[0, 1], [2, 3], [4]] True"


def test_datasets_pickle_across_the_two_names():
    from flambeau.utils.data import TensorDataset

    ds = TensorDataset(flambeau.arange(3))
    back = pickle.loads(pickle.dumps(ds))
    assert isinstance(back, fdata.TensorDataset)
    assert back[2][0].item() == 2


def test_a_missing_name_is_an_attribute_error():
    import flambeau.utils as utils

    with pytest.raises(AttributeError):
        utils.no_such_module  # noqa: B018
