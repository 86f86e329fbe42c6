"""Run the benchmarks against a bench database and print the results table (bench/README.md reads it).

    python bench/run.py --server postgres://postgres@127.0.0.1:8151/postgres --agents 10000

The database (--database, crm_scale_bench) is created on --server if missing and topped up to
--agents agents with bulk SQL; later runs reuse it.
"""

import argparse
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

BENCHMARKS = ["provisioning", "web", "cold_path", "domain_write", "catalog_cache", "connections", "pg_dump"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:8151/postgres")
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "crm_scale_bench"))
    parser.add_argument("--agents", type=int, default=int(os.environ.get("BENCH_AGENTS", "10000")))
    parser.add_argument("--requests", type=int, default=1000, help="requests (or writes) per latency sample")
    parser.add_argument(
        "--provisioned", type=int, default=50, help="agents created (on each database) for the provisioning median"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8152")))
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--agents-per-process",
        type=int,
        default=400,
        help="agents per web process and per intake worker behind sticky routing and slices (docs/operations.md)",
    )
    options = parser.parse_args()
    options.web_processes = options.intake_workers = max(1, -(-options.agents // options.agents_per_process))

    started = time.monotonic()
    load_before = harness.load_average()
    harness.configure(options.server, options.database)
    harness.ensure_agents(options.agents)

    import scale

    options.agent_ids = harness.bench_agent_ids()[: options.agents]
    options.pg_dump = shutil.which("pg_dump") or "pg_dump"
    rows = []
    for name in options.only.split(",") if options.only else BENCHMARKS:
        print(f"running {name}...", flush=True)
        rows += getattr(scale, name)(options)

    from django.db import connection

    header = (
        f"\nBench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {len(options.agent_ids)} agents in "
        f"{options.database} on PostgreSQL {connection.pg_version // 10000} ({options.server.rsplit('@', 1)[-1]}); "
        f"{os.cpu_count()} CPUs, load average {load_before} before, {harness.load_average()} after; "
        f"{time.monotonic() - started:.0f} s\n"
    )
    harness.print_table(rows, header)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    with open(results / "latest.txt", "w") as out:
        harness.print_table(rows, header, out)
    if any(row.verdict == "MISSED" for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
