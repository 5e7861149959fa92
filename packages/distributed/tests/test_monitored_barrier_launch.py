"""monitored_barrier in a 3-rank job launched from here: every late rank is named."""

import textwrap


def test_monitored_barrier_names_every_late_rank(mpi_job, tmp_path):
    body = """
        import time
        import flambeau.distributed as dist
        dist.init_process_group("mpi")
        rank = dist.get_rank()
        if rank > 0:
            time.sleep(3.0)  # ranks 1 and 2 miss rank 0's 1 s timeout
        start = time.monotonic()
        try:
            dist.monitored_barrier(timeout=1.0, wait_all_ranks=True)
            print(f"rank {rank} passed")
        except dist.DistBackendError as exc:
            print(f"rank {rank} raised after {time.monotonic() - start:.1f} s: {exc}")
        dist.barrier()
        dist.monitored_barrier(timeout=30.0)  # still usable afterwards
        print(f"rank {rank} done")
        dist.destroy_process_group()
    """
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    code, out, seconds = mpi_job([str(path)], n=3, timeout=120)
    assert code == 0, f"the job failed or hung (code {code}):\n{out}"
    assert "rank 0 raised after 1.0 s: monitored_barrier: ranks 1, 2 did not reach the barrier" \
        in out, out  # fmt: skip
    assert "passed" not in out and out.count("raised") == 3 and out.count("done") == 3, out
