"""Load benchmark of the public verify route, against a baseline view, under gunicorn on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/verify_load.py [--rounds 5]

Needs `wrk` (apt install wrk). Uses (or generates) a batch of 1,000,000 codes; requests are 90% valid codes
and 10% random serials, JSON verdicts. The baseline, in the same run and the same server, is a Django view
that does one UPDATE … RETURNING on the codes table and one INSERT into a scans table; the two take turns in
short rounds. Reports per round and as medians: req/s, p50/p90/p99 of both, the ratio (target ≥ 0.8), verify's
p99 against the baseline's (target ≤ 2x); then p99 at
about half the peak rate, a fresh worker's first verify (target < 50 ms), and scans lost. The server runs with
the production gunicorn.conf.py (preloading, warm-up), `--workers` sync workers (default 2).
"""

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _setup import ROOT, setup_django

PORT = 8765
CONNECTIONS = 16
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local delay_ms = %(delay_ms)d
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "application/json"})
end
if delay_ms > 0 then delay = function() return delay_ms end end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d non2xx=%%d errors=%%d p50=%%.3f p90=%%.3f p99=%%.3f\\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000))
end
"""


def million_code_batch(quantity: int):
    from brands.services import approve_brand_prefix, is_verified_for
    from codes.models import CodeBatch

    ready = CodeBatch.objects.filter(quantity__gte=quantity, state="ready", imported=False)  # serials from the key
    ready = ready.select_related("product__brand", "lot")
    if not ready.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--quantity", str(quantity)], check=True)
    batch = ready.first()
    product = batch.product
    if not is_verified_for(product.brand, product.gtin):  # a batch from before brand verification existed
        approve_brand_prefix(brand=product.brand, prefix=product.gtin[1:13])
    return batch


def write_paths(batch, count: int, folder: Path) -> tuple[Path, Path]:
    from codes.serials import CROCKFORD32
    from codes.services import codec_for

    codec = codec_for(batch.product)
    rng = random.Random()  # new codes each run: most real scans are a code's first or second
    verify, baseline = [], []
    for _ in range(count):
        ordinal = batch.first_ordinal + rng.randrange(batch.quantity)
        if rng.random() < 0.9:
            serial = codec.serial(ordinal)
        else:
            serial = "".join(rng.choice(CROCKFORD32) for _ in range(batch.product.serial_length))
            ordinal = 10**12 + ordinal  # the baseline's "random serial": a row that does not exist
        verify.append(f"/01/{batch.product.gtin}/10/{batch.lot.number}/21/{serial}")
        baseline.append(f"/bench/baseline/{batch.product_id}/{ordinal}")
    verify_file, baseline_file = folder / "verify.txt", folder / "baseline.txt"
    verify_file.write_text("\n".join(verify) + "\n")
    baseline_file.write_text("\n".join(baseline) + "\n")
    return verify_file, baseline_file


def wrk(paths: Path, seconds: int, delay_ms: int = 0, connections: int = CONNECTIONS) -> dict:
    script = paths.with_suffix(f".{delay_ms}.lua")
    script.write_text(WRK_SCRIPT % {"paths": paths, "delay_ms": delay_ms})
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(re.findall(r"(\w+)=([\d.]+)", out.split("RESULT", 1)[1]))
    result = {k: float(v) for k, v in fields.items()}
    result["rps"] = result["requests"] / seconds
    return result


def check_answers(*files: Path) -> None:
    """Both sides must answer 200 or 404 (never an error) before their speed means anything."""
    for file in files:
        for line in file.read_text().splitlines()[:30]:
            request = urllib.request.Request(f"http://127.0.0.1:{PORT}{line}", headers={"Accept": "application/json"})
            try:
                status = urllib.request.urlopen(request, timeout=5).status  # noqa: S310 - loopback only
            except urllib.error.HTTPError as error:
                status = error.code
            if status not in (200, 404):
                raise RuntimeError(f"{line} answered {status}")


def count_rows(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
        return cursor.fetchone()[0]


def start_gunicorn(workers: int, *, wait: bool = True, log: Path | None = None) -> subprocess.Popen:
    """gunicorn with the production configuration (gunicorn.conf.py: preloading and warm-up included)."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        BIND=f"127.0.0.1:{PORT}",
        WEB_CONCURRENCY=str(workers),
    )
    command = [sys.executable, "-m", "gunicorn", "serialize_saas.wsgi", "--config", "gunicorn.conf.py"]
    level = ["--log-level", "info", "--error-logfile", str(log)] if log else ["--log-level", "warning"]
    process = subprocess.Popen([*command, *level], cwd=ROOT, env=env, start_new_session=True)
    if not wait:
        return process
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)  # noqa: S310 - loopback only
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(20)


def first_verify_ms(path: str, workers: int, *, once_ready: bool) -> float:
    """A fresh server's first verify. `once_ready`: sent once every worker has said it is ready (a worker that
    replaces a recycled one takes no request before that); else sent as soon as the port listens, so it also
    waits for a worker to be forked and to connect (a cold start)."""
    log = Path(tempfile.mkdtemp()) / "gunicorn.log"
    log.touch()
    server = start_gunicorn(workers, wait=False, log=log)
    try:
        for _ in range(1200):
            if once_ready and log.read_text().count("Worker ready") >= workers:
                break
            if not once_ready:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                        break
            time.sleep(0.02)
        request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Accept": "application/json"})
        started = time.perf_counter()
        with contextlib.suppress(urllib.error.HTTPError):  # 404 for the random serials: still an answer
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback only
        return 1000 * (time.perf_counter() - started)
    finally:
        stop(server)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8, help="per side and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE (bench/ab.py)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    setup_django()
    from django.db import connection

    batch = million_code_batch(args.quantity)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_scans")
        cursor.execute("CREATE TABLE bench_scans (LIKE scans_scan INCLUDING ALL)")
    folder = Path(tempfile.mkdtemp())
    verify_paths, baseline_paths = write_paths(batch, 50_000, folder)
    first_paths = verify_paths.read_text().splitlines()
    firsts = [first_verify_ms(first_paths[n], args.workers, once_ready=True) for n in range(3)]
    colds = [first_verify_ms(first_paths[3 + n], args.workers, once_ready=False) for n in range(3)]
    server = start_gunicorn(args.workers)
    rounds: list[tuple[dict, dict]] = []
    try:
        check_answers(verify_paths, baseline_paths)
        wrk(verify_paths, 3)  # warm up both: per-process caches, connections
        wrk(baseline_paths, 3)
        scans_before = count_rows("scans_scan")
        # Short rounds, alternating which side goes first: on a shared machine the load drifts, and each
        # round's ratio compares two measurements taken seconds apart.
        for n in range(args.rounds):
            if n % 2 == 0:
                app = wrk(verify_paths, args.seconds)
                base = wrk(baseline_paths, args.seconds)
            else:
                base = wrk(baseline_paths, args.seconds)
                app = wrk(verify_paths, args.seconds)
            rounds.append((app, base))
        time.sleep(1)
        scans_logged = count_rows("scans_scan") - scans_before
        # About half of the app's peak rate: each connection waits between requests.
        target_rps = median([app["rps"] for app, _ in rounds]) / 2
        delay_ms = max(1, int(1000 * CONNECTIONS / target_rps - median([app["p50"] for app, _ in rounds])))
        half = wrk(verify_paths, args.seconds * 2, delay_ms=delay_ms)
    finally:
        stop(server)
    print(
        f"wrk: {CONNECTIONS} connections, gunicorn {args.workers} sync workers, loopback; "
        f"{args.rounds} rounds of {args.seconds} s per side, alternating which side goes first"
    )
    for n, (app, base) in enumerate(rounds, 1):
        print(
            f"  round {n}: verify {app['rps']:6,.0f} req/s p99 {app['p99']:6.1f} ms | baseline {base['rps']:6,.0f} "
            f"req/s p99 {base['p99']:6.1f} ms | ratio {app['rps'] / base['rps']:.2f}  "
            f"p99 x{app['p99'] / base['p99']:.2f}"
        )
    sides = (("baseline (UPDATE … RETURNING + INSERT)", 1), ("verify (90% valid, 10% random)", 0))
    for name, side in sides:
        results = [pair[side] for pair in rounds]
        print(
            f"{name:<39}: {median([r['rps'] for r in results]):8,.0f} req/s  "
            f"p50 {median([r['p50'] for r in results]):.1f} ms  p90 {median([r['p90'] for r in results]):.1f} ms  "
            f"p99 {median([r['p99'] for r in results]):.1f} ms   (medians over rounds)"
        )
    print(f"ratio verify/baseline: {median([a['rps'] / b['rps'] for a, b in rounds]):.2f}  (median of rounds; >= 0.8)")
    print(f"p99 verify/baseline: {median([a['p99'] / b['p99'] for a, b in rounds]):.2f}  (median of rounds; <= 2)")
    print(f"a fresh worker's first verify: {', '.join(f'{ms:.0f}' for ms in firsts)} ms  (target < 50 ms)")
    print(f"  sent as the port opens (waits for a worker to start too): {', '.join(f'{ms:.0f}' for ms in colds)} ms")
    print(
        f"at ~50% of peak ({half['rps']:,.0f} req/s): p50 {half['p50']:.1f} ms  p99 {half['p99']:.1f} ms  "
        "(target p99 < 50 ms)"
    )
    answered = int(sum(app["requests"] for app, _ in rounds))
    lost = answered - scans_logged
    errors = int(sum(app["errors"] + base["errors"] for app, base in rounds))
    print(f"scans: {answered:,} answered, {scans_logged:,} logged, {max(0, lost)} lost; {errors} socket errors")
    if args.json:
        figures = {
            f"{name}_{key}": median([pair[side][key] for pair in rounds])
            for name, side in (("verify", 0), ("baseline", 1))
            for key in ("rps", "p50", "p90", "p99")
        }
        figures |= {
            "ratio": median([a["rps"] / b["rps"] for a, b in rounds]),
            "p99_ratio": median([a["p99"] / b["p99"] for a, b in rounds]),
            "first_verify_ms": firsts,
            "cold_first_verify_ms": colds,
            "half_rps": half["rps"],
            "half_p50": half["p50"],
            "half_p99": half["p99"],
            "answered": answered,
            "logged": scans_logged,
            "lost": max(0, lost),
            "socket_errors": errors,
        }
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
