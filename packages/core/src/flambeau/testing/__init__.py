"""flambeau.testing: assert_close and the backend conformance suite.

Backend authors run :func:`run_conformance` against a device of their type.

Examples
--------
>>> from flambeau.testing import run_conformance
>>> run_conformance("cpu")
[]
"""

from flambeau.testing._conformance import assert_close, conformance_checks, run_conformance

__all__ = ["assert_close", "conformance_checks", "run_conformance"]
