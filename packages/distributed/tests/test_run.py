"""The launcher ``python -m flambeau.distributed.run``: environment, failures, signals, and
the "gloo" jobs it starts (the 2-rank suite of tests/mpi, a 3-rank job)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flambeau.distributed.run import main

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def launch(args, timeout=120):
    """Run the launcher with ``args``; return (exit code, output, seconds)."""
    cmd = [sys.executable, "-m", "flambeau.distributed.run", *args]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=ENV, start_new_session=True)  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"the launcher hung:\n{out}")
    return proc.returncode, out, time.monotonic() - start


def script(tmp_path, body, name="job.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_two_rank_suite_passes_on_gloo():
    code, out, _ = launch(["--nproc-per-node", "2", "-m", "pytest", str(HERE / "mpi"), "-m",
                           "mpi", "-q", "-p", "no:cacheprovider", "-p", "no:warnings"],
                          timeout=300)  # fmt: skip
    assert code == 0, f"pytest -m mpi on gloo failed (code {code}):\n{out}"
    assert "skipped" not in out and out.count(" passed") == 2, out


def test_three_rank_job_checks_every_collective():
    code, out, _ = launch(["--nproc-per-node", "3", str(HERE / "jobs" / "gloo_three_ranks.py")])
    assert code == 0, out
    assert all(f"rank {r} ok" in out for r in range(3)), out


def test_workers_get_torchruns_environment(tmp_path):
    body = """
        import os, sys
        keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS"]
        line = " ".join(f"{k}={os.environ[k]}" for k in keys) + f" {sys.argv[1:]}\\n"
        sys.stdout.write(line)  # one write: the two workers' lines cannot interleave
    """
    code, out, _ = launch(["--nnodes", "2", "--node-rank", "1", "--nproc_per_node", "2",
                           "--master-addr", "10.1.2.3", "--master-port", "29511",
                           script(tmp_path, body), "--lr", "0.1"])  # fmt: skip
    assert code == 0, out
    lines = sorted(line for line in out.splitlines() if line.startswith("RANK="))
    common = ("WORLD_SIZE=4 LOCAL_WORLD_SIZE=2 GROUP_RANK=1 MASTER_ADDR=10.1.2.3 "
              "MASTER_PORT=29511 OMP_NUM_THREADS=1 ['--lr', '0.1']")
    assert lines == [f"RANK=2 LOCAL_RANK=0 {common}", f"RANK=3 LOCAL_RANK=1 {common}"], out


def test_a_failed_worker_stops_the_others_and_the_launcher_exits_1(tmp_path):
    body = """
        import os, time
        if os.environ["RANK"] == "1":
            raise SystemExit(3)
        time.sleep(120)
    """
    code, out, seconds = launch(["--nproc-per-node", "3", script(tmp_path, body)])
    assert code == 1 and seconds < 30, (code, seconds, out)  # torchrun's code for a failure
    assert "flambeau.distributed.run: worker rank 1 (pid " in out
    assert "exited with code 3; stopped the other 2 worker(s)" in out


def test_an_exception_on_a_gloo_rank_ends_the_job(tmp_path):
    # rank 0 waits in a collective that rank 1 never joins: the job must end, not hang
    body = """
        import datetime, time
        import flambeau, flambeau.distributed as dist
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        if dist.get_rank() == 1:
            raise RuntimeError("boom on purpose")
        dist.all_reduce(flambeau.ones(4))
        print("rank 0 finished: it should not have")
    """
    code, out, seconds = launch(["--nproc-per-node", "2", script(tmp_path, body)])
    assert code == 1 and seconds < 40, (code, seconds, out)
    assert "[rank 1] RuntimeError: boom on purpose" in out
    assert "worker rank" in out and "exited with code 1" in out
    assert "finished" not in out


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_signal_to_the_launcher_reaches_every_worker(tmp_path, name):
    # rank 0 exits on the signal; rank 1 ignores it and is killed once --stop-grace has passed
    body = f"""
        import os, signal, sys, time
        def bye(signum, frame):
            print(f"rank {{os.environ['RANK']}} got {name}", flush=True)
            if os.environ["RANK"] == "0":
                sys.exit(7)
        signal.signal(signal.{name}, bye)
        print("ready", flush=True)
        time.sleep(120)
    """
    cmd = [sys.executable, "-m", "flambeau.distributed.run", "--nproc-per-node", "2",
           "--stop-grace", "1", script(tmp_path, body)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=ENV, start_new_session=True)  # fmt: skip
    try:
        seen = ""  # the workers' unbuffered prints may interleave within a line
        while seen.count("ready") < 2:
            line = proc.stdout.readline()
            assert line, f"the workers ended before they were ready:\n{seen}"
            seen += line
        start = time.monotonic()
        proc.send_signal(getattr(signal, name))
        out, _ = proc.communicate(timeout=60)
        seconds = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert f"rank 0 got {name}" in out and f"rank 1 got {name}" in out, out
    assert f"got {name}, passed it on to the 2 worker(s) and stopped them" in out, out
    assert proc.returncode == 1 and seconds < 30, (proc.returncode, seconds, out)  # torchrun's


@pytest.mark.parametrize("args, message", [
    (["--nproc-per-node", "0", "x.py"], "--nproc-per-node and --nnodes must be at least 1"),
    (["--nproc-per-node", "two", "x.py"], "--nproc-per-node and --nnodes take a whole number"),
    (["--nnodes", "2", "--node-rank", "2", "x.py"], "--node-rank 2 must be in [0, 2)"),
    (["--standalone", "--nnodes", "2", "x.py"], "--standalone runs one machine"),
    (["--master-port", "70000", "x.py"], "--master-port must be in [1, 65536), got 70000"),
])  # fmt: skip
def test_bad_arguments_exit_with_a_usage_error(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_program_is_reported(capsys):
    assert main(["--no-python", "/nonexistent/flambeau-program"]) == 1
    assert "could not start '/nonexistent/flambeau-program'" in capsys.readouterr().err


def test_the_console_script_is_installed():
    exe = shutil.which("flambeau-run", path=str(Path(sys.executable).parent)) or \
        shutil.which("flambeau-run")  # fmt: skip
    if exe is None:
        pytest.skip("flambeau-run is not on PATH (reinstall flambeau-distributed)")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--nproc-per-node" in out.stdout


@pytest.mark.parametrize("spelling", ["cpu", "auto"])
def test_nproc_per_node_cpu_starts_one_worker_per_core(monkeypatch, spelling):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    check = "import os, sys; sys.exit(0 if os.environ['LOCAL_WORLD_SIZE'] == '2' else 5)"
    assert main(["--nproc-per-node", spelling, "--no-python", sys.executable, "-c", check]) == 0


def test_two_nodes_meet_at_the_master_address(tmp_path, free_port):
    # two launchers, as on two machines: node 1's worker joins node 0's rendezvous store
    body = """
        import datetime, sys
        import flambeau, flambeau.distributed as dist
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        t = flambeau.tensor([float(dist.get_rank() + 1)])
        dist.all_reduce(t)
        sys.stdout.write(f"rank {dist.get_rank()} of {dist.get_world_size()}: {t.item()}\\n")
        dist.destroy_process_group()
    """
    job = script(tmp_path, body)
    port = str(free_port())
    nodes = [subprocess.Popen([sys.executable, "-m", "flambeau.distributed.run", "--nnodes", "2",
                               "--node-rank", str(node), "--nproc-per-node", "1",
                               "--master-addr", "127.0.0.1", "--master-port", port, job],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=ENV, start_new_session=True)
             for node in range(2)]  # fmt: skip
    outs = []
    try:
        for p in nodes:
            outs.append(p.communicate(timeout=120)[0])
    finally:
        for p in nodes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    assert [p.returncode for p in nodes] == [0, 0], outs
    assert "rank 0 of 2: 3.0" in outs[0] and "rank 1 of 2: 3.0" in outs[1], outs
