"""Add up the JUnit reports that the nox sessions wrote into one closing line.

Usage: ``python .ci/test_tally.py REPORT_DIR``. Prints ``tests: N passed, N failed, N skipped``
and exits 1 when no test ran at all, so that a CI run that tested nothing cannot pass.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def tally(folder: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for report in sorted(folder.glob("*.xml")):
        for suite in ET.parse(report).getroot().iter("testsuite"):
            total = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            passed += total - bad - skip
            failed += bad
            skipped += skip
    return passed, failed, skipped


def main() -> int:
    passed, failed, skipped = tally(Path(sys.argv[1]))
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
