"""flambeau.testing.port_torch_program: a PyTorch program's imports become flambeau's, and
nothing else changes (the seed programs of vision and the repository's torch-program suite
both run through it)."""

from __future__ import annotations

import pytest

import flambeau
from flambeau.testing import port_torch_program


@pytest.mark.parametrize("theirs, ours", [
    ("import torch", "import flambeau as torch"),
    ("import torch.nn as nn", "import flambeau.nn as nn"),
    ("import torch.nn.functional as F", "import flambeau.nn.functional as F"),
    ("import torch.optim as optim", "import flambeau.optim as optim"),
    ("import torch.distributed as dist", "import flambeau.distributed as dist"),
    ("import torchvision", "import flambeau.vision as torchvision"),
    ("import torchvision.transforms as T", "import flambeau.vision.transforms as T"),
    ("from torch import nn, optim", "from flambeau import nn, optim"),
    ("from torch.nn.parallel import DataParallel", "from flambeau.nn.parallel import DataParallel"),
    ("from torch.utils.data import DataLoader", "from flambeau.utils.data import DataLoader"),
    ("from torch.optim.lr_scheduler import StepLR",
     "from flambeau.optim.lr_scheduler import StepLR"),
    ("from torch.distributions import Categorical",
     "from flambeau.distributions import Categorical"),
    ("from torchvision import transforms", "from flambeau.vision import transforms"),
    ("from torch.nn import (Linear,", "from flambeau.nn import (Linear,"),
    # binds `torch` as Python does, to the package whose submodule it loaded
    ("import torch.utils.data", "import flambeau.utils.data, flambeau as torch"),
    ("import numpy as np, torch  # both", "import numpy as np, flambeau as torch  # both"),
])
def test_each_import_form(theirs, ours):
    assert port_torch_program(theirs) == ours


def test_only_imports_change():
    program = ("import torch\n"
               "import torchvision_like  # another package\n"
               "from torchmetrics import x\n"
               "s = 'import torch'\n"
               "x = torch.ones(1)  # torch\n")
    assert port_torch_program(program) == program.replace(
        "import torch\n", "import flambeau as torch\n", 1)


def test_indented_program_and_imports_inside_functions():
    ported = port_torch_program("""
        def main():
            import torch.nn.functional as F
            from torch import nn
            return F, nn
    """)
    assert ported.splitlines()[2:4] == ["    import flambeau.nn.functional as F",
                                        "    from flambeau import nn"]
    pytest.importorskip("flambeau.nn")  # core's own session installs core alone
    scope = {}
    exec(ported, scope)  # noqa: S102
    functional, nn = scope["main"]()
    assert functional is flambeau.nn.functional and nn is flambeau.nn


def test_ported_program_runs_on_flambeau():
    pytest.importorskip("flambeau.utils.data")  # flambeau-data's; core's session lacks it
    scope = {}
    exec(port_torch_program("""
        import torch
        import torch.utils.data
        from torch.utils.data import TensorDataset
        x = torch.arange(6.0).reshape(3, 2)
        loader = torch.utils.data.DataLoader(TensorDataset(x), batch_size=2)
        sizes = [len(batch[0]) for batch in loader]
    """), scope)  # noqa: S102
    assert scope["torch"] is flambeau
    assert isinstance(scope["x"], flambeau.Tensor)
    assert scope["sizes"] == [2, 1]


@pytest.mark.parity
def test_ported_program_matches_torch():
    torch = pytest.importorskip("torch")
    program = """
        import torch
        import torch.nn.functional as F
        x = torch.linspace(-2.0, 2.0, 5)
        y = F.softplus(x).sum()
    """
    ours, theirs = {}, {}
    exec(port_torch_program(program), ours)  # noqa: S102
    exec(compile(port_torch_program("") + program.replace("        ", ""), "<torch>", "exec"),
         theirs)  # noqa: S102
    assert theirs["torch"] is torch
    assert ours["y"].item() == pytest.approx(theirs["y"].item(), rel=1e-6)


@pytest.mark.parametrize("line", ["import torch; import numpy", "import torch, \\"])
def test_an_import_it_cannot_rewrite_is_an_error(line):
    with pytest.raises(ValueError, match="port_torch_program: cannot rewrite the import "
                                         r"'import torch.*'; write it as one import statement"):
        port_torch_program(line)
