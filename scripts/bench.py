"""make bench: load synthetic cases into PostgreSQL, serve with gunicorn, measure with wrk.

Every page is compared with a bare Django view returning a fixed string
through the same middleware, on the same server, in the same run. Writes a
Markdown report to docs/bench-<N>.md and prints it.

    python scripts/bench.py --persons 100000 [--duration 10] [--connections 1] [--import-rows 100000]

The server's one worker is pinned to the first core and wrk to the second (taskset, where there are two), so
that they do not take turns on one core; PostgreSQL runs where the system puts it.

Also times the import of a synthetic file (scripts/import_file.py) into a
fresh database beside the benchmark's, publishing a case, recording a status
change and the CSV export of every published case, with the memory of the
worker that streams it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORT = 8765
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P50 %f\\nP95 %f\\nP99 %f\\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""
# Budgets from DESIGN.md: share of the bare view's throughput.
BUDGETS = {"case page": 0.25, "list": 0.10, "search": 0.05}
# The long tail's targets (a different case, page or name each request): share of the bare view, and p95 in ms.
LONG_TAIL_TARGETS = {"case page": 0.5, "list": 0.25, "search": 0.10}
LONG_TAIL_P95_MS = 20
BARE_AGAIN = "bare view, again at the end"


def pinned(core: int) -> list[str]:
    """The command prefix that runs a process on ``core`` alone, when the machine has a second core and taskset."""
    return ["taskset", "-c", str(core)] if (os.cpu_count() or 1) > 1 and shutil.which("taskset") else []


def env(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-benchmark-only-secret-key",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BENCHMARK_VIEW": "1",
        "DATABASE_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # A collection this large builds its data release nightly (README), timed on its own below.
        "DATA_RELEASE_AFTER_PUBLICATION": "0",
        "MEDIA_ROOT": str(Path(tempfile.gettempdir()) / "whereabouts-bench-media"),
    }


def manage(database_url: str, *args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env(database_url), check=True, capture_output=capture, text=True
    )
    return result.stdout if capture else ""


def ensure_database(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(  # noqa: S603
        ["psql", admin_url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S607, S608 (our own database name)
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", admin_url, "-qc", f'CREATE DATABASE "{name}"'], check=True)  # noqa: S603, S607


def time_import(database_url: str, rows: int) -> float:
    """Seconds to import ``rows`` synthetic rows into a new, empty database (dropped afterwards)."""
    url = database_url + "_import"
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)  # noqa: S603, S607
    ensure_database(url)
    try:
        manage(url, "migrate", "--verbosity", "0")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"cases-{rows}.csv"
            subprocess.run(  # noqa: S603 (our own script)
                [PYTHON, str(ROOT / "scripts" / "import_file.py"), "--rows", str(rows), "--output", str(path)],
                check=True,
            )
            start = time.perf_counter()
            manage(url, "import_cases", "--no-progress", str(path))
            return time.perf_counter() - start
    finally:
        subprocess.run(["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)  # noqa: S603, S607


def shell(database_url: str, code: str) -> str:
    return manage(database_url, "shell", "-c", code, capture=True).strip()


SETUP = """
from cases.models import Person
from workflow.models import PublishedVersion
print(Person.objects.filter(is_synthetic=True).count())
"""

BIG_CASE = """
import time
from django.contrib.auth import get_user_model
from cases.history import save_with_history
from cases.models import Person, Status
from cases.partial_dates import PartialDate
from sources.models import Citation, Source
from workflow.models import PublishedVersion
from workflow.services import publish, submit_for_review
big = Person.objects.filter(external_ref="BENCH-BIG-CASE").first()
if big is None:
    big = Person(name="Bench Big-case", external_ref="BENCH-BIG-CASE", is_synthetic=True,
                 summary="[Synthetic demo data] A case with 50 events and 100 citations.",
                 publication_basis="already_public")
    save_with_history(big, by=None, reason="benchmark")
    sources = list(Source.objects.filter(is_restricted=False, withdrawn=False)[:10])
    for n in range(50):
        event = big.record_status(Status.DETAINED, by=None, reason="benchmark", date=PartialDate(1970 + n % 50),
                                  is_public=True, description=f"Event {n}")
        for k in range(2):
            save_with_history(Citation(source=sources[(n + k) % len(sources)], status_event=event,
                                       locator=f"p. {n}.{k}"), by=None, reason="benchmark")
    submit_for_review(big, by=None)
    publish(big, by=None)
print(big.case_id)
"""

RELEASE = """
import resource, time
from django.core.management import call_command
from workflow.models import DataRelease
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
call_command("build_data_release", "--quiet")
seconds = time.perf_counter() - start
release = DataRelease.objects.order_by("-number").first()
size = sum(entry["bytes"] for entry in release.files)
print(f"{seconds:.1f} {before} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} {release.case_count} {size}")
"""

TIMINGS = """
import statistics, time
from cases.models import Person, Status
from cases.partial_dates import PartialDate
from workflow.services import publish, submit_for_review
person = Person.objects.filter(external_ref="BENCH-BIG-CASE").get()
record, publishing = [], []
for n in range(10):
    start = time.perf_counter()
    person.record_status(Status.DETAINED, by=None, reason="benchmark", date=PartialDate(2020), is_public=False)
    record.append((time.perf_counter() - start) * 1000)
for n in range(5):
    submit_for_review(person, by=None)
    start = time.perf_counter()
    publish(person, by=None)
    publishing.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(record):.1f} {statistics.median(publishing):.1f}")
"""


class Server:
    def __init__(self, database_url: str, workers: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                *pinned(0), PYTHON, "-m", "gunicorn", "casetracker.wsgi", "--bind", f"127.0.0.1:{PORT}",
                "--workers", str(workers), "--threads", "1", "--log-level", "warning",
                # The CSV export of every case streams for minutes at a million cases.
                "--timeout", "1800",
            ],
            cwd=ROOT,
            env=env(database_url),
        )  # fmt: skip
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        # Warm every worker's connection and caches.
        for _ in range(20):
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/bare", timeout=10).read()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rotating_script(directory: Path, name: str, paths: list[str]) -> Path:
    """A wrk script asking for a different path each request (the p95 report included)."""
    quoted = ",\n".join('"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"' for path in paths)
    script = directory / f"{name}.lua"
    script.write_text(
        f"paths = {{\n{quoted}\n}}\ncounter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  return wrk.format(nil, paths[(counter % #paths) + 1])\nend\n" + LUA
    )
    return script


def wrk(url: str, duration: int, connections: int, script: Path) -> dict:
    output = subprocess.run(  # noqa: S603
        [*pinned(1), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50": float(re.search(r"P50 ([\d.]+)", output).group(1)),
        "p95": float(re.search(r"P95 ([\d.]+)", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=1, help="wrk's connections (one reader at a time)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the import to time (0: skip)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/whereabouts_bench"),
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    url = args.database_url
    ensure_database(url)
    manage(url, "migrate", "--verbosity", "0")
    existing = int(shell(url, SETUP).splitlines()[-1])
    generated = ""
    if existing < args.persons:
        start = time.perf_counter()
        manage(url, "generate_demo_data", "--persons", str(args.persons - existing), "--seed", str(existing + 1))
        generated = f"Generated {args.persons - existing:,} persons in {time.perf_counter() - start:.0f} s"
        print(generated, flush=True)
    # The steady state a server reaches once autovacuum has passed: fresh statistics, and a
    # visibility map that lets the list read a page's ids from its index alone.
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)  # noqa: S603, S607
    import_seconds = time_import(url, args.import_rows) if args.import_rows else None
    manage(url, "collectstatic", "--noinput", "--verbosity", "0")
    big_case = shell(url, BIG_CASE).splitlines()[-1]
    record_ms, publish_ms = shell(url, TIMINGS).splitlines()[-1].split()
    release_seconds, release_before, release_peak, release_cases, release_bytes = (
        shell(url, RELEASE).splitlines()[-1].split()
    )
    # What a deployment runs: every case page kept (public.rendering), in English, the language measured here.
    start = time.perf_counter()
    manage(url, "render_public_pages", "--language", "en", "--processes", str(os.cpu_count() or 1), "--quiet")
    render_seconds = time.perf_counter() - start
    # The full pass of the duplicate review queue (linkage.matching.full_pass) over every case not withdrawn.
    start = time.perf_counter()
    manage(url, "find_duplicates", "--quiet")
    duplicates_seconds = time.perf_counter() - start
    duplicate_pairs = shell(
        url, "from linkage.models import CandidatePair; print(CandidatePair.objects.pending().count())"
    ).splitlines()[-1]
    kept_pages, kept_bytes = (
        shell(
            url,
            "from django.db import connection; from workflow.models import PublishedRendering as R\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SELECT COUNT(*), COALESCE(SUM(pg_column_size(html)), 0) FROM ' + R._meta.db_table)\n"
            "    print(*c.fetchone())",
        )
        .splitlines()[-1]
        .split()
    )
    sample = shell(
        url,
        "from workflow.models import PublishedVersion as V; print(V.objects.current().order_by('pk').first().case_id)",
    ).splitlines()[-1]
    # For the uncached rows: thousands of different cases, names and pages, so that no request is served
    # from the page cache (one request per case, name or page in a run).
    case_ids, names = (
        shell(url, code).splitlines()[-1].split("|")
        for code in (
            "from workflow.models import PublishedVersion as V; "
            "print('|'.join(V.objects.current().order_by('?').values_list('case_id', flat=True)[:20000]))",
            "from workflow.models import PublishedVersion as V; "
            "print('|'.join(sorted(set(V.objects.current().order_by('?').values_list('name', flat=True)[:20000]))))",
        )
    )
    # The facility with the most published cases: its page lists the most.
    busiest_facility = shell(
        url,
        "from django.db.models import Count; from workflow.models import PublishedPlacement as P; "
        "print((P.objects.values('facility_id').annotate(n=Count('version')).order_by('-n').first() or "
        "{'facility_id': 0})['facility_id'])",
    ).splitlines()[-1]
    pages_count = max(1, int(args.persons * 0.6) // 25)
    rotating = {
        "list, a different page each request (uncached)": [f"/cases/?page={n}" for n in range(1, pages_count + 1)],
        "search, a different name each request (uncached)": [f"/cases/?q={urllib.parse.quote_plus(n)}" for n in names],
        "case page, a different case each request (uncached)": [f"/cases/{case_id}/" for case_id in case_ids],
        "statistics, a different search each request (uncached)": [
            f"/statistics/?status={status}&year_from={year}"
            for status in ("detained", "disappeared", "political_prison_camp", "released")
            for year in range(1950, 2025)
        ],
    }

    pages = {
        "bare view": "/bench/bare",
        "home": "/",
        "list": "/cases/",
        "list, filtered": "/cases/?status=detained&fate=outstanding",
        "list, sorted by date": "/cases/?sort=date",
        "list, deep page": f"/cases/?page={max(1, args.persons * 6 // 10 // 25 // 2)}",
        "search (romanized)": "/cases/?q=Kim+Chol-su",
        "search (misspelled)": "/cases/?q=Kim+Cheolsoo",
        "search (Hangul)": "/cases/?q=%EA%B9%80%EC%B2%A0%EC%88%98",
        "case page": f"/cases/{sample}/",
        "case page, 50 events and 100 citations": f"/cases/{big_case}/",
        "facilities (map and list)": "/facilities/",
        "facility page, the most cases": f"/facilities/{busiest_facility}/",
        "list, filtered by kind of facility": "/cases/?facility_kind=kwanliso",
        "statistics": "/statistics/",
        "statistics, filtered": "/statistics/?status=detained&nationality=KP",
        "statistics as JSON": "/api/statistics/",
        "Atom feed": "/feed/",
        "JSON API": "/api/cases/",
        "JSON API, one case": f"/api/cases/{sample}/",
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "p95.lua"
        script.write_text(LUA)
        server = Server(url, workers=1)
        try:
            for label, path in pages.items():
                # The first request renders the page (and, after a change, the counts) for the cache; it is
                # timed on its own, then wrk measures the steady state of many readers of the same page.
                start = time.perf_counter()
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=600).read()
                first_ms = (time.perf_counter() - start) * 1000
                results[label] = wrk(f"http://127.0.0.1:{PORT}{path}", args.duration, args.connections, script)
                results[label]["first"] = first_ms
                print(f"{label}: {results[label]}", flush=True)
            for n, (label, paths) in enumerate(rotating.items()):
                rotating_lua = rotating_script(Path(tmp), f"rotating-{n}", paths)
                results[label] = wrk(f"http://127.0.0.1:{PORT}/", args.duration, args.connections, rotating_lua)
                print(f"{label}: {results[label]}", flush=True)
            # The yardstick once more, at the end: a shared machine's speed drifts during a run.
            results[BARE_AGAIN] = wrk(f"http://127.0.0.1:{PORT}/bench/bare", args.duration, args.connections, script)
            print(f"{BARE_AGAIN}: {results[BARE_AGAIN]}", flush=True)
            worker = server.worker_pids()[0]
            before = rss_kib(worker)
            peak = before
            start = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/export/cases.csv", timeout=1800) as response:
                rows = 0
                while chunk := response.read(1 << 16):
                    rows += chunk.count(b"\n")
                    peak = max(peak, rss_kib(worker))
            export_seconds = time.perf_counter() - start
        finally:
            server.stop()
    # Ratios to the faster of the two runs of the bare view: the lower ratios, when the machine's speed drifted.
    bare = max(results["bare view"]["rps"], results[BARE_AGAIN]["rps"])
    lines = [
        f"# Benchmark: {args.persons:,} synthetic persons",
        "",
        f"- Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{subprocess.run(['psql', '--version'], capture_output=True, text=True).stdout.strip()}",  # noqa: S607
        f"- gunicorn, 1 worker, 1 thread{', on core 0' if pinned(0) else ''}; wrk, 1 thread, "
        f"{args.connections} connection{'s' if args.connections > 1 else ''}{', on core 1' if pinned(1) else ''}, "
        f"{args.duration} s per page",
        f"- Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `make bench PERSONS={args.persons}`",
        "- Each page: one first request, timed alone (it renders the page and, after a change of the public data, "
        "its counts, for the cache), then wrk on the same address: many readers of one page, served from the "
        "page cache. The rows marked *uncached* ask for a different page, name or case each request: nothing "
        "in the process's caches (a case page comes from the pages kept in the database).",
        "- The bare view is measured first and again last; every ratio is to the faster of the two runs.",
        "",
        "| page | requests/s per worker | ratio to bare view | median ms | p95 ms | non-2xx | first request ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, result in results.items():
        first = f"{result['first']:.0f}" if "first" in result else "–"
        lines.append(
            f"| {label} | {result['rps']:.0f} | {result['rps'] / bare:.2f} | {result['p50']:.1f} | "
            f"{result['p95']:.1f} | {result['errors']} | {first} |"
        )
    lines += [
        "",
        f"- Recording a status change: {record_ms} ms (median of 10); publishing a case with 50 events "
        f"and 100 citations: {publish_ms} ms (median of 5).",
        f"- CSV export of every published case ({rows - 1:,} rows): {export_seconds:.1f} s "
        f"({(rows - 1) / export_seconds:,.0f} rows/s); worker memory {before / 1024:.0f} MiB before, "
        f"{peak / 1024:.0f} MiB at its peak while streaming.",
        f"- Case pages kept in English (render_public_pages, {os.cpu_count()} processes, after the data was "
        f"generated): {render_seconds:.0f} s; {int(kept_pages):,} pages kept, {int(kept_bytes) / 1048576:,.0f} MiB "
        "in PostgreSQL.",
        f"- Data release (build_data_release) of {int(release_cases):,} cases: {release_seconds} s, "
        f"{int(release_bytes) / 1048576:,.0f} MiB of files; process memory {int(release_before) / 1024:.0f} MiB "
        f"before, {int(release_peak) / 1024:.0f} MiB at its peak.",
        f"- Full pass of the duplicate review queue (find_duplicates): {duplicates_seconds:.0f} s; "
        f"{int(duplicate_pairs):,} pairs waiting for review.",
        f"- Import of {args.import_rows:,} synthetic rows (scripts/import_file.py) into an empty database: "
        + (f"{import_seconds:.0f} s." if import_seconds is not None else "not measured (--import-rows 0)."),
        *([f"- {generated} (generate_demo_data)."] if generated else []),
        "",
        "## Budgets (DESIGN.md)",
        "",
    ]
    for label, share in BUDGETS.items():
        for kind, uncached in (("repeated requests", False), ("uncached", True)):
            matching = [name for name in results if name.startswith(label) and ("uncached" in name) == uncached]
            worst = min(matching, key=lambda name: results[name]["rps"])
            ratio = results[worst]["rps"] / bare
            p95 = max(results[name]["p95"] for name in matching)
            met = ratio >= share and p95 < 50
            lines.append(
                f"- {label}, {kind}: worst ratio {ratio:.2f} (budget {share}), worst p95 {p95:.1f} ms (budget 50): "
                f"{'met' if met else 'NOT met'}"
            )
    lines += ["", "## The long tail's targets (a different case, page or name each request)", ""]
    for label, share in LONG_TAIL_TARGETS.items():
        name = next(name for name in results if name.startswith(label) and "uncached" in name)
        ratio, p95 = results[name]["rps"] / bare, results[name]["p95"]
        met = ratio >= share and p95 < LONG_TAIL_P95_MS
        lines.append(
            f"- {label}: ratio {ratio:.2f} (target {share}), p95 {p95:.1f} ms (target {LONG_TAIL_P95_MS}): "
            f"{'met' if met else 'NOT met'}"
        )
    report = "\n".join(lines) + "\n"
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / f"bench-{args.persons}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
