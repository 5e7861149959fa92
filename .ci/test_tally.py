"""Add up the JUnit reports that the nox sessions wrote into one closing line.

Usage: ``python .ci/test_tally.py REPORT_DIR``. Prints the totals in pytest's own closing-line
format, for example ``==== 3723 passed, 5604 skipped in 412.30s (0:06:52) ====``, so that
whatever reads CI's last lines reads them as a test run, and exits 1 when no test ran at all
or one failed, so that a CI run that tested nothing cannot pass.
"""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path


def tally(folder: Path) -> tuple[int, int, int, int, float]:
    """Return (passed, failed, errors, skipped, seconds) over every report in ``folder``."""
    passed = failed = errors = skipped = 0
    seconds = 0.0
    for report in sorted(folder.glob("*.xml")):
        for suite in ET.parse(report).getroot().iter("testsuite"):
            fail = int(suite.get("failures", 0))
            error = int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            passed += int(suite.get("tests", 0)) - fail - error - skip
            failed += fail
            errors += error
            skipped += skip
            seconds += float(suite.get("time", 0.0))
    return passed, failed, errors, skipped, seconds


def closing_line(passed: int, failed: int, errors: int, skipped: int, seconds: float) -> str:
    """pytest's summary line: counts in its order, then the time, centred in '=' bars."""
    counts = [(failed, "failed"), (passed, "passed"), (skipped, "skipped"), (errors, "errors")]
    words = ", ".join(f"{n} {word}" for n, word in counts if n) or "no tests ran"
    clock = str(timedelta(seconds=int(seconds)))
    text = f" {words} in {seconds:.2f}s ({clock}) "
    width = max(shutil.get_terminal_size((80, 20)).columns, len(text) + 2)
    return text.center(width, "=")


def main() -> int:
    passed, failed, errors, skipped, seconds = tally(Path(sys.argv[1]))
    print("all nox sessions together:")
    print(closing_line(passed, failed, errors, skipped, seconds))
    return 0 if passed and not (failed or errors) else 1


if __name__ == "__main__":
    sys.exit(main())
