"""Add up the JUnit reports that the nox sessions wrote into one closing line.

Usage: ``python .ci/test_tally.py REPORT_DIR``. Names every test that failed (with the first
line of its message) and every test that failed and then passed when pytest-rerunfailures ran
it again, then prints the totals in pytest's own closing-line format, for example
``==== 3723 passed, 5604 skipped in 412.30s (0:06:52) ====``. Those are CI's last lines, the
part a reader of a long log sees. Exits 1 when no test ran at all or one failed, so that a CI
run that tested nothing cannot pass.
"""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter
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


def problems(folder: Path) -> tuple[list[str], list[str]]:
    """Lines naming the failed tests, and lines naming the tests that passed only on a rerun.

    pytest-rerunfailures writes one ``testcase`` element per attempt; a test named more than
    once in a report was run again after failing.
    """
    failed: list[str] = []
    rerun: list[str] = []
    for report in sorted(folder.glob("*.xml")):
        run = report.stem.rsplit("-", 1)[0].rstrip("-")  # the nox session, e.g. tests-data
        cases = list(ET.parse(report).getroot().iter("testcase"))
        attempts = Counter(_test_id(case) for case in cases)
        last = {_test_id(case): case for case in cases}
        for test, case in last.items():
            bad = case.find("failure")
            bad = case.find("error") if bad is None else bad
            if bad is not None:
                message = (bad.get("message") or "").strip().splitlines() or [""]
                failed.append(f"FAILED [{run}] {test} - {message[0][:300]}")
            elif attempts[test] > 1:
                rerun.append(f"RERUN  [{run}] {test} (passed on attempt {attempts[test]})")
    return failed, rerun


def _test_id(case: ET.Element) -> str:
    return f"{case.get('classname', '')}::{case.get('name', '')}"


def closing_line(passed: int, failed: int, errors: int, skipped: int, seconds: float) -> str:
    """pytest's summary line: counts in its order, then the time, centred in '=' bars."""
    counts = [(failed, "failed"), (passed, "passed"), (skipped, "skipped"), (errors, "errors")]
    words = ", ".join(f"{n} {word}" for n, word in counts if n) or "no tests ran"
    clock = str(timedelta(seconds=int(seconds)))
    text = f" {words} in {seconds:.2f}s ({clock}) "
    width = max(shutil.get_terminal_size((80, 20)).columns, len(text) + 2)
    return text.center(width, "=")


def main() -> int:
    folder = Path(sys.argv[1])
    passed, failed, errors, skipped, seconds = tally(folder)
    failures, reruns = problems(folder)
    if failures:
        print(f"tests that failed ({len(failures)}):", *failures[:40], sep="\n  ")
    if reruns:
        print(f"flaky: tests that failed, then passed when run again ({len(reruns)}):",
              *reruns, sep="\n  ")
    print("all nox sessions together:")
    print(closing_line(passed, failed, errors, skipped, seconds))
    return 0 if passed and not (failed or errors) else 1


if __name__ == "__main__":
    sys.exit(main())
