"""A code lookup through the REST API against the verify JSON path, in the same run and the same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/api_lookup.py [--rounds 5]

Uses (or generates) a batch of 1,000,000 codes, activated (so verify counts and logs every scan). Three sides
ask for the same random codes: `GET /api/v1/codes/lookup/?url=<the code's whole Digital Link>` and
`?serial=&gtin=` with a read key (Bearer: key lookup, rate and daily-quota counters in Redis, the access layer,
two reads), and the public verify URL with `Accept: application/json` (parse, decrypt, one UPDATE … RETURNING
with its INSERT into the scan log). Two measurements, each interleaved so machine noise falls on every side:
(a) one client, one request at a time, the sides taking turns request by request (latency without queueing);
(b) wrk, CONNECTIONS connections, in short rounds alternating which side goes first (latency under load, req/s).
Reports p50 and p99 of each side and the API/verify ratios. The server is gunicorn with the production
gunicorn.conf.py, `--workers` sync workers (default 2), bench.settings (rate limits off; calls still metered).
"""

import argparse
import http.client
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import verify_load
from _setup import setup_django
from verify_load import median, million_code_batch, start_gunicorn, stop

CONNECTIONS = 16
SIDES = ("verify", "api-url", "api-serial")
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "application/json"%(auth)s})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d non2xx=%%d errors=%%d p50=%%.3f p99=%%.3f\\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    """A port of our own: other benchmarks on this machine listen on verify_load's."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = verify_load.PORT = free_port()  # start_gunicorn binds verify_load's


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def activated(batch):
    """The batch with every unit live (activated once, by the service, in this process)."""
    from codes import activation

    if batch.codes_activated < batch.quantity:
        activation.activate(brand=batch.product.brand, batch=batch, enqueue=False)
        batch.refresh_from_db()
    return batch


def read_key(brand) -> str:
    from brands.apikeys import create_api_key

    _key, raw = create_api_key(brand=brand, name="bench api_lookup", scopes="read")
    return raw


def sample_paths(batch, count: int) -> dict[str, list[str]]:
    """The same random codes as each side asks for them."""
    from django.conf import settings

    from codes import gs1
    from codes.services import codec_for

    codec, lot, gtin = codec_for(batch.product), batch.lot, batch.product.gtin
    rng = random.Random()  # new codes each run, as verify_load
    paths: dict[str, list[str]] = {side: [] for side in SIDES}
    for _ in range(count):
        serial = codec.serial(batch.first_ordinal + rng.randrange(batch.quantity))
        url = gs1.digital_link_url(settings.VERIFY_BASE_URL, gtin=gtin, serial=serial, lot=lot.number)
        paths["verify"].append(f"/01/{gtin}/10/{lot.number}/21/{serial}")
        paths["api-url"].append("/api/v1/codes/lookup/?" + urlencode({"url": url}))
        paths["api-serial"].append("/api/v1/codes/lookup/?" + urlencode({"serial": serial, "gtin": gtin}))
    return paths


def one_at_a_time(paths: dict[str, list[str]], key: str) -> dict[str, list[float]]:
    """(a): one keep-alive connection per side, requests taking turns (the order rotating), timed in ms."""
    connections = {side: http.client.HTTPConnection("127.0.0.1", PORT, timeout=10) for side in SIDES}
    timings: dict[str, list[float]] = {side: [] for side in SIDES}
    for n in range(len(paths["verify"])):
        order = SIDES[n % 3 :] + SIDES[: n % 3]
        for side in order:
            headers = {"Accept": "application/json"}
            if side != "verify":
                headers["Authorization"] = f"Bearer {key}"
            started = time.perf_counter()
            connections[side].request("GET", paths[side][n], headers=headers)
            response = connections[side].getresponse()
            response.read()
            timings[side].append(1000 * (time.perf_counter() - started))
            if response.status != 200:
                raise RuntimeError(f"{side} {paths[side][n]} answered {response.status}")
    for connection in connections.values():
        connection.close()
    return timings


def wrk(paths: Path, seconds: int, key: str | None) -> dict:
    script = paths.with_suffix(".lua")
    auth = f', ["Authorization"] = "Bearer {key}"' if key else ""
    script.write_text(WRK_SCRIPT % {"paths": paths, "auth": auth})
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script)]
    out = subprocess.run([*command, f"http://127.0.0.1:{PORT}"], capture_output=True, text=True, check=True).stdout
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out.split("RESULT", 1)[1])}
    result["rps"] = result["requests"] / seconds
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"{paths.name}: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3_000, help="per side, one at a time (a)")
    parser.add_argument("--seconds", type=int, default=6, help="per side and round under load (b)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE (bench/ab.py)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    setup_django()
    batch = activated(million_code_batch(args.quantity))
    key = read_key(batch.product.brand)
    paths = sample_paths(batch, max(args.requests, 20_000))
    folder = Path(tempfile.mkdtemp())
    files = {}
    for side in SIDES:
        files[side] = folder / f"{side}.txt"
        files[side].write_text("\n".join(paths[side]) + "\n")
    server = start_gunicorn(args.workers)
    try:
        one_at_a_time({side: p[:300] for side, p in paths.items()}, key)  # warm up: caches, connections
        single = one_at_a_time({side: p[-args.requests :] for side, p in paths.items()}, key)
        rounds: list[dict[str, dict]] = []
        for n in range(args.rounds):
            order = SIDES[n % 3 :] + SIDES[: n % 3]
            rounds.append({side: wrk(files[side], args.seconds, None if side == "verify" else key) for side in order})
    finally:
        stop(server)

    print(f"batch {batch.pk}: {batch.quantity:,} activated codes; gunicorn {args.workers} sync workers, loopback")
    print(f"(a) one request at a time, sides taking turns ({args.requests:,} requests each):")
    figures: dict[str, float] = {}
    for side in SIDES:
        p50, p99 = percentile(single[side], 50), percentile(single[side], 99)
        figures |= {f"single_{side}_p50": p50, f"single_{side}_p99": p99}
        print(f"  {side:<11} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    for side in SIDES[1:]:
        r50 = figures[f"single_{side}_p50"] / figures["single_verify_p50"]
        r99 = figures[f"single_{side}_p99"] / figures["single_verify_p99"]
        figures |= {f"single_{side}_ratio_p50": r50, f"single_{side}_ratio_p99": r99}
        print(f"  {side}/verify: p50 x{r50:.2f}  p99 x{r99:.2f}")
    print(f"(b) wrk, {CONNECTIONS} connections, {args.rounds} rounds of {args.seconds} s per side, order rotating:")
    for n, sides in enumerate(rounds, 1):
        print(
            "  round",
            n,
            " | ".join(
                f"{s} {r['rps']:6,.0f} req/s p50 {r['p50']:5.1f} p99 {r['p99']:5.1f} ms" for s, r in sides.items()
            ),
        )
    for side in SIDES:
        for field in ("rps", "p50", "p99"):
            figures[f"load_{side}_{field}"] = median([r[side][field] for r in rounds])
        print(
            f"  {side:<11} {figures[f'load_{side}_rps']:7,.0f} req/s  p50 {figures[f'load_{side}_p50']:6.1f} ms  "
            f"p99 {figures[f'load_{side}_p99']:6.1f} ms  (medians over rounds)"
        )
    for side in SIDES[1:]:
        ratios = {
            field: median([r[side][field] / r["verify"][field] for r in rounds]) for field in ("rps", "p50", "p99")
        }
        figures |= {f"load_{side}_ratio_{field}": value for field, value in ratios.items()}
        print(
            f"  {side}/verify: req/s x{ratios['rps']:.2f}  p50 x{ratios['p50']:.2f}  p99 x{ratios['p99']:.2f}  "
            "(medians of rounds)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
