"""The three torchvision transforms the programs use, written with torch, for the torch run
where torchvision is not installed (CI installs only torch: the torchvision wheels at hand are
CUDA builds that do not load next to torch's CPU build). They follow torchvision's
documented behaviour; flambeau.vision's own transforms are compared with torch in the
package's transform tests."""

import types

import numpy as np


def make(torch):
    """A ``torchvision`` module object holding ``transforms.{Compose,ToTensor,Normalize}``."""

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class ToTensor:
        def __call__(self, pic):
            array = np.asarray(pic)
            if array.ndim == 2:
                array = array[:, :, None]
            tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
            if array.dtype == np.uint8:
                return tensor.float().div(255)
            return tensor

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
            std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
            return (tensor - mean) / std

    transforms = types.ModuleType("torchvision.transforms")
    transforms.Compose, transforms.ToTensor, transforms.Normalize = Compose, ToTensor, Normalize
    torchvision = types.ModuleType("torchvision")
    torchvision.transforms = transforms
    return torchvision
