"""Register a backend at run time and run flambeau's conformance suite against it (tutorial 11).

The backend is NumPy under a new device type, with a named "matmul" kernel that counts its
calls. --broken swaps in a kernel that computes in float32 whatever its inputs, to show a
failing report.

    python examples/custom_backend.py
    python examples/custom_backend.py --broken
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from tqdm import tqdm

import flambeau
from flambeau.backends import Backend, register_backend, unregister_backend
from flambeau.testing import conformance_checks


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="exampledev", help="the device type to register")
    p.add_argument("--broken", action="store_true", help="use a float32-only matmul kernel")
    return p.parse_args(argv)


class ExampleBackend(Backend):
    """NumPy arrays on a device type of their own; transfers copy, as real devices do."""

    def from_host(self, array, index=None):
        return np.array(array, copy=True)

    def to_host(self, array):
        return np.array(array, copy=True)


def make_backend(name: str, broken: bool, calls: list) -> Backend:
    def matmul(a, b):
        calls.append((a.shape, b.shape))
        if broken:
            return np.matmul(a.astype(np.float32), b.astype(np.float32))
        return np.matmul(a, b)

    return ExampleBackend(name, xp=np, kernels={"matmul": matmul})


def main(argv=None) -> int:
    args = parse_args(argv)
    calls: list = []
    register_backend(make_backend(args.name, args.broken, calls), plugin_name="example")
    try:
        device = flambeau.device(args.name)
        x = flambeau.randn(3, 4).to(device)
        print(f"{x.device}: (x @ x.T).sum() = {(x @ x.T).sum().item():.4f}")
        failures = []
        for name, check in tqdm(conformance_checks(), desc="conformance"):
            try:
                check(device)
            except Exception as exc:  # report every failing check, not only the first
                failures.append((name, f"{type(exc).__name__}: {exc}"))
        print(f"the matmul kernel ran {len(calls)} times")
        for name, message in failures:
            print(f"FAILED {name}: {message.splitlines()[0]}")
        print("conforms" if not failures else f"{len(failures)} check(s) failed")
        return 1 if failures else 0
    finally:
        unregister_backend(args.name)


if __name__ == "__main__":
    sys.exit(main())
