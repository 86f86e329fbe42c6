#!/usr/bin/env python
"""Pages under slow clients (`make bench-slow-clients`; bench/README.md explains).

The web process runs as the Procfile runs it (gunicorn with crm/gunicorn.py, DEBUG off, 2 workers x 4
threads, the default on 2 CPUs), and in other shapes for comparison: gunicorn's plain gthread worker
(what shipped before), the same with more threads, and behind nginx (deploy/nginx.conf, when nginx is
installed). For each, one client requests GET /healthz and a logged-out GET /accounts/login/ in turn for
--seconds with no slow client, then again while --slow connections post to the login page and withhold
their body, trickle it a byte a second, or never finish their headers (crm/tests/slow_clients.py). A
page not answered within --timeout counts as that long and as failed.

It prints p50 / p95 per page and phase, the ratios, and writes the table to bench/results/.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm.tests.slow_clients import SlowClients, time_page  # noqa: E402

PAGES = ("/healthz", "/accounts/login/")
ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789abcdef",
    "WHATSAPP_APP_SECRET": "bench-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",  # plain http on this machine
    "HOST": "127.0.0.1",
    "WEB_CONCURRENCY": "2",
    "WEB_THREADS": "4",
    "LOG_LEVEL": "error",
}
# name: (extra gunicorn arguments, extra environment, behind nginx)
SHAPES = {
    "gthread (before)": (["--worker-class", "gthread"], {}, False),
    "gthread, 32 threads": (["--worker-class", "gthread"], {"WEB_THREADS": "32"}, False),
    "nginx + gthread": (["--worker-class", "gthread"], {}, True),
    "shipped (BufferingWorker)": ([], {}, False),
}


def wait_until_answering(port, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time_page(port, "/healthz", timeout=2)[0] != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"nothing answers on port {port}")
        time.sleep(0.2)


def start(shape, port, directory):
    """Start the shape's processes; return them and the port pages are requested on."""
    arguments, environment, behind_nginx = SHAPES[shape]
    app_port = port + 1 if behind_nginx else port
    env = {
        "PATH": os.environ["PATH"],
        **ENVIRONMENT,
        **environment,
        "PORT": str(app_port),
        "DATABASE_URL": f"sqlite:///{directory}/db.sqlite3",  # the pages measured read no table
        "STATIC_ROOT": f"{directory}/static",
    }
    command = [sys.executable, "-m", "gunicorn", "--config", "crm/gunicorn.py", "crm.wsgi", *arguments]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)]
    wait_until_answering(app_port, processes[0])
    if behind_nginx:
        nginx_dir = Path(directory) / "nginx"
        nginx_dir.mkdir(exist_ok=True)
        run_nginx = [ROOT / "scripts" / "run-nginx", f"127.0.0.1:{port}", f"127.0.0.1:{app_port}", nginx_dir]
        processes.append(subprocess.Popen(run_nginx, cwd=ROOT))
        wait_until_answering(port, processes[-1])
    return processes


def request_pages(port, seconds, timeout):
    timings = {path: [] for path in PAGES}
    failed = dict.fromkeys(PAGES, 0)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path in PAGES:
            status, elapsed = time_page(port, path, timeout)
            timings[path].append(elapsed)
            failed[path] += status != 200
    return {
        path: {
            "requests": len(timings[path]),
            "failed": failed[path],
            "p50_ms": statistics.median(timings[path]) * 1000,
            "p95_ms": statistics.quantiles(timings[path], n=20, method="inclusive")[-1] * 1000,
        }
        for path in PAGES
    }


def measure(shape, port, arguments):
    with tempfile.TemporaryDirectory() as directory:
        processes = start(shape, port, directory)
        try:
            print(f"{shape}: no slow client...", flush=True)
            quiet = request_pages(port, arguments.seconds, arguments.timeout)
            print(f"{shape}: {arguments.slow} slow clients...", flush=True)
            with SlowClients(port, arguments.slow) as slow_clients:
                if not slow_clients.ready.wait(30):
                    raise SystemExit("the slow clients could not all connect")
                loaded = request_pages(port, arguments.seconds, arguments.timeout)
            answers = dict(slow_clients.answers)
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)
    return {"quiet": quiet, "loaded": loaded, "slow_answers": answers, "slow_opened": slow_clients.opened}


def report(results, arguments, load_before, load_after):
    lines = [
        "",
        f"Pages under slow clients ({os.cpu_count()} CPUs; load average before / after: {load_before} / {load_after})",
        f"{arguments.seconds:.0f} s per phase; a page not answered within {arguments.timeout:.0f} s counts as "
        f"{arguments.timeout:.0f} s and failed",
        "",
        f"{'':32}{'page':18}{'slow':>5}{'requests':>9}{'failed':>7}{'p50 ms':>9}{'p95 ms':>9}{'p50 x':>8}{'p95 x':>8}",
    ]
    for shape, figures in results.items():
        for path in PAGES:
            quiet, loaded = figures["quiet"][path], figures["loaded"][path]
            for slow, row in ((0, quiet), (arguments.slow, loaded)):
                ratios = ""
                if slow:
                    ratios = f"{row['p50_ms'] / quiet['p50_ms']:8.1f}{row['p95_ms'] / quiet['p95_ms']:8.1f}"
                lines.append(
                    f"{shape if (slow, path) == (0, PAGES[0]) else '':32}{path:18}{slow:5d}{row['requests']:9d}"
                    f"{row['failed']:7d}{row['p50_ms']:9.1f}{row['p95_ms']:9.1f}{ratios}"
                )
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(figures["slow_answers"].items()))
        lines.append(f"{'':32}slow connections opened: {figures['slow_opened']}; answered: {answers or 'none'}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8111")))
    parser.add_argument("--slow", type=int, default=50, help="slow connections held open")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--timeout", type=float, default=5.0, help="how long a page request may wait")
    parser.add_argument("--shapes", default=";".join(SHAPES), help="separated by ';', among: " + "; ".join(SHAPES))
    arguments = parser.parse_args()

    shapes = arguments.shapes.split(";")
    if "nginx + gthread" in shapes and not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print("nginx is not installed (apt-get install nginx-light): its shape is left out", flush=True)
        shapes.remove("nginx + gthread")
    load_before = os.getloadavg()[0]
    results = {shape: measure(shape, arguments.port, arguments) for shape in shapes}
    text = report(results, arguments, f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}")
    print(text)
    directory = ROOT / "bench" / "results"
    directory.mkdir(exist_ok=True)
    (directory / f"slow-clients-{time.strftime('%Y%m%d-%H%M%S')}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
