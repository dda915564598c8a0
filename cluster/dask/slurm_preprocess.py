"""Preprocess a cohort on SLURM workers started by dask-jobqueue.

    pip install dask-jobqueue
    python cluster/dask/slurm_preprocess.py /shared/cohorts/covid --jobs 10 --queue cpu

Each SLURM job runs `--processes` single-threaded Dask workers; the cohort directory must be
on a file system every node sees. Adapt `account`, `queue`, `walltime` and the environment
setup (`job_script_prologue`) to the site.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort")
    parser.add_argument("--jobs", type=int, default=4, help="SLURM jobs (nodes or node slices)")
    parser.add_argument("--processes", type=int, default=8, help="worker processes per job")
    parser.add_argument("--memory", default="48GB", help="memory per job")
    parser.add_argument("--queue", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--walltime", default="04:00:00")
    parser.add_argument("--feature-set", default="covid-mtl-375")
    args = parser.parse_args()

    from dask_jobqueue import SLURMCluster

    from mtl_study.preprocess.pipeline import preprocess_cohort

    with SLURMCluster(
        cores=args.processes,
        processes=args.processes,
        memory=args.memory,
        queue=args.queue,
        account=args.account,
        walltime=args.walltime,
        job_script_prologue=["source ~/venvs/mtl-study/bin/activate"],
    ) as cluster:
        cluster.scale(jobs=args.jobs)
        summary = preprocess_cohort(
            args.cohort, feature_set=args.feature_set, dask_address=cluster.scheduler_address
        )
    print(f"{summary.finished}/{summary.total} cases done, {len(summary.failures)} failed")


if __name__ == "__main__":
    main()
