"""flambeau.testing: assert_close and the backend conformance suite.

Backend authors run :func:`run_conformance` against a device of their type.

Examples
--------
>>> from flambeau.testing import run_conformance
>>> run_conformance("cpu")
[]
"""

from flambeau.testing._cases import (
    ALL_CASES,
    ELEMENTWISE_CASES,
    INDEXING_CASES,
    LINALG_CASES,
    REDUCTION_CASES,
    SHAPE_CASES,
    OpCase,
    Sample,
    both,
    nograd,
)
from flambeau.testing._conformance import assert_close, conformance_checks, run_conformance
from flambeau.testing._doctests import check_docstring_examples, docstring_modules
from flambeau.testing._graph import check_graph_parity, graph_of
from flambeau.testing._harness import (
    available_devices,
    check_case,
    check_forward,
    check_gradients,
    check_parity,
    device_params,
    op_tests,
)
from flambeau.testing._make_tensor import make_tensor
from flambeau.testing._porting import port_torch_program
from flambeau.testing._processes import join_processes
from flambeau.testing._signatures import comparable_value, signature_of

__all__ = [
    "assert_close", "make_tensor", "conformance_checks", "run_conformance", "OpCase", "Sample",
    "nograd", "both", "ALL_CASES", "ELEMENTWISE_CASES", "REDUCTION_CASES", "SHAPE_CASES",
    "LINALG_CASES", "INDEXING_CASES", "check_case", "check_forward", "check_gradients",
    "check_parity", "op_tests", "device_params", "available_devices",
    "check_docstring_examples", "docstring_modules", "graph_of", "check_graph_parity",
    "comparable_value", "signature_of", "port_torch_program", "join_processes",
]
