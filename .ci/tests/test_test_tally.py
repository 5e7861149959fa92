"""The CI tally: totals in pytest's format, failures and reruns named, exit status."""

import subprocess
import sys
from pathlib import Path

import pytest

TALLY = Path(__file__).resolve().parents[1] / "test_tally.py"

PASSING = """<testsuites><testsuite errors="0" failures="0" skipped="1" tests="3" time="1.5">
<testcase classname="tests.test_a" name="test_one" time="0.1" />
<testcase classname="tests.test_a" name="test_two" time="0.1" />
<testcase classname="tests.test_a" name="test_skip" time="0.0"><skipped /></testcase>
</testsuite></testsuites>"""

# pytest-rerunfailures writes one testcase per attempt: test_flaky failed once, then passed
FLAKY_AND_FAILING = """<testsuites><testsuite errors="0" failures="1" skipped="0" tests="3"
time="2.25"><testcase classname="tests.test_b" name="test_flaky" time="0.1" />
<testcase classname="tests.test_b" name="test_flaky" time="0.1" />
<testcase classname="tests.test_b" name="test_fine" time="0.1" />
<testcase classname="tests.test_b" name="test_bad[2]" time="0.1"><failure
message="AssertionError: 1 != 2&#10;more detail">trace</failure></testcase>
</testsuite></testsuites>"""


def _run(folder):
    return subprocess.run([sys.executable, str(TALLY), str(folder)], capture_output=True,
                          text=True, env={"COLUMNS": "60"})


def test_totals_in_pytest_closing_line_format(tmp_path):
    (tmp_path / "tests-core--1a2b3c4d.xml").write_text(PASSING)
    out = _run(tmp_path)
    assert out.returncode == 0, out.stderr
    last = out.stdout.splitlines()[-1]
    assert last.strip("=") == " 2 passed, 1 skipped in 1.50s (0:00:01) "
    assert len(last) == 60 and "FAILED" not in out.stdout and "flaky" not in out.stdout


def test_failures_and_reruns_are_named_and_fail_the_run(tmp_path):
    (tmp_path / "tests-core--1a2b3c4d.xml").write_text(PASSING)
    (tmp_path / "tests-data--5e6f7a8b.xml").write_text(FLAKY_AND_FAILING)
    out = _run(tmp_path)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "  FAILED [tests-data] tests.test_b::test_bad[2] - AssertionError: 1 != 2" in lines
    assert "  RERUN  [tests-data] tests.test_b::test_flaky (passed on attempt 2)" in lines
    assert not any("test_fine" in line for line in lines)
    assert lines[-1].strip("=") == " 1 failed, 4 passed, 1 skipped in 3.75s (0:00:03) "


@pytest.mark.parametrize("reports", [[], [("x--00000000.xml", PASSING.replace(
    'skipped="1" tests="3"', 'skipped="0" tests="0"'))]])
def test_no_test_run_fails(tmp_path, reports):
    for name, text in reports:
        (tmp_path / name).write_text(text)
    out = _run(tmp_path)
    assert out.returncode == 1 and "no tests ran" in out.stdout
