"""flambeau.testing.signature_of / comparable_value: what every package's API signature test
compares with torch's."""

from __future__ import annotations

import pytest

import flambeau
from flambeau.testing import comparable_value, signature_of


def test_values_keep_their_type_and_compare_by_name():
    assert comparable_value(0) == ("int", 0) != comparable_value(0.0)
    assert comparable_value([1, (2.0, None)]) == (("int", 1), (("float", 2.0), ("NoneType", None)))
    assert comparable_value(flambeau.float16) == ("dtype", "float16")
    assert comparable_value(flambeau.default_generator) == ("generator", "cpu")
    assert comparable_value(len) == ("callable", "len")


def test_signature_of_functions_and_classes():
    def f(a, /, b=1, *args, c="x", **kw):
        pass

    assert signature_of(f) == [("a", "POSITIONAL_ONLY", "<required>"),
                               ("b", "POSITIONAL_OR_KEYWORD", ("int", 1)),
                               ("args", "VAR_POSITIONAL", "<required>"),
                               ("c", "KEYWORD_ONLY", ("str", "x")),
                               ("kw", "VAR_KEYWORD", "<required>")]

    class NoInit:
        pass

    class WithInit:
        def __init__(self, lr=0.1):
            pass

        def step(self, closure=None):
            pass

    assert signature_of(NoInit) == [("self", "POSITIONAL_OR_KEYWORD", "<required>")]
    assert signature_of(WithInit)[1] == ("lr", "POSITIONAL_OR_KEYWORD", ("float", 0.1))
    assert signature_of(WithInit, "step")[1] == ("closure", "POSITIONAL_OR_KEYWORD",
                                                 ("NoneType", None))


def test_torch_values_compare_equal_to_ours():
    torch = pytest.importorskip("torch")
    assert comparable_value(torch.float16) == comparable_value(flambeau.float16)
    assert comparable_value(torch.default_generator) == comparable_value(
        flambeau.default_generator)
    assert signature_of(torch.optim.SGD)[:2] == [("self", "POSITIONAL_OR_KEYWORD", "<required>"),
                                                 ("params", "POSITIONAL_OR_KEYWORD",
                                                  "<required>")]
