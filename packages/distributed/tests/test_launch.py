"""Jobs under `mpiexec -n 2`, launched from here: the 2-rank suite, and failing ranks."""

import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_two_rank_suite_passes(mpi_job):
    code, out, _ = mpi_job(["-m", "pytest", str(HERE / "mpi"), "-m", "mpi", "-q",
                            "-p", "no:cacheprovider"], timeout=300)  # fmt: skip
    assert code == 0, f"mpiexec -n 2 pytest -m mpi failed (code {code}):\n{out}"
    assert "skipped" not in out and out.count(" passed") == 2, out


def _script(tmp_path, body):
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return [str(path)]


@pytest.mark.parametrize("where", ["before", "inside"])
def test_an_exception_on_one_rank_ends_the_job_on_every_rank(mpi_job, tmp_path, where):
    # rank 0 waits in a collective that rank 1 never joins: without the abort it would hang
    body = f"""
        import time
        import flambeau, flambeau.distributed as dist
        dist.init_process_group("mpi")
        rank = dist.get_rank()
        if "{where}" == "inside" and rank == 0:
            dist.all_reduce(flambeau.ones(4))
        if rank == 1:
            time.sleep(0.5)
            raise RuntimeError("boom on purpose")
        dist.all_reduce(flambeau.ones(4))
        print("rank", rank, "finished: it should not have")
    """
    code, out, seconds = mpi_job(_script(tmp_path, body), timeout=60)
    assert code is not None, f"the job hung:\n{out}"
    assert code != 0 and seconds < 20, (code, seconds, out)
    assert "rank 1 of 2 raised an exception; aborting the job on every rank" in out
    assert "[rank 1] RuntimeError: boom on purpose" in out
    assert "finished" not in out


def test_the_job_runs_in_a_plain_python_too(tmp_path):
    import subprocess

    body = """
        import flambeau, flambeau.distributed as dist
        dist.init_process_group("mpi")
        t = flambeau.ones(2)
        dist.all_reduce(t)
        print(dist.get_world_size(), t.tolist())
        dist.destroy_process_group()
    """
    out = subprocess.run([sys.executable, *_script(tmp_path, body)], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1 [1.0, 1.0]"
