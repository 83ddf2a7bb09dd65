"""A trading partner's verification request (vrs) against the verify JSON path, in the same run and the same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/vrs_lookup.py [--rounds 3]

Uses (or generates) a batch of `--quantity` codes, activated. Both sides ask for the same random codes: the
public verify URL with `Accept: application/json` (parse, decrypt, one UPDATE … RETURNING with its INSERT into
the scan log), and `GET /vrs/verify/gtin/…/lot/…/ser/…?exp=&corrUUID=&reqGLN=` with a partner's key of scope vrs
(key read, the key's rate counter in Redis, parse, decrypt, one UPDATE … RETURNING of the detection state with
its INSERT into the scan log, the INSERT into the request log, in one transaction). Two measurements, each
interleaved so machine noise falls on both sides: (a) one client, one request at a time, the sides taking turns;
(b) wrk, CONNECTIONS connections, in short rounds alternating which side goes first. Reports p50 and p99 of each
side and the vrs/verify ratios. gunicorn with the production gunicorn.conf.py, `--workers` sync workers,
bench.settings (rate limits off: API_KEY_RATE=0, so the vrs side's counter is not even asked).
"""

import argparse
import json
import shutil
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import api_lookup
import verify_load
from _setup import setup_django
from api_lookup import percentile, wrk
from verify_load import median, million_code_batch, start_gunicorn, stop

PARTNER_GLN = "0614141000012"
RESPONDER_GLN = "0614141000005"
EXPIRY = date(2030, 12, 31)
SIDES = ("verify", "vrs")
PORT = verify_load.PORT = api_lookup.PORT  # one free port, shared by the helpers imported


def prepared(batch):
    """The batch live, with an expiry (a partner always states one), its brand a GLN, and a partner's key."""
    from brands.apikeys import create_api_key
    from brands.models import Brand
    from codes.models import Lot

    batch = api_lookup.activated(batch)
    if batch.lot.expires_on is None:
        Lot.objects.filter(pk=batch.lot_id).update(expires_on=EXPIRY)
        batch.lot.refresh_from_db()
    Brand.objects.filter(pk=batch.product.brand_id).update(gln=RESPONDER_GLN)
    _key, raw = create_api_key(brand=batch.product.brand, name="bench vrs", scopes="vrs", partner_gln=PARTNER_GLN)
    return batch, raw


def sample_paths(batch, count: int) -> dict[str, list[str]]:
    import random

    from codes.services import codec_for

    codec, lot, gtin = codec_for(batch.product), batch.lot.number, batch.product.gtin
    exp = batch.lot.expires_on.strftime("%y%m%d")
    rng = random.Random()
    paths: dict[str, list[str]] = {side: [] for side in SIDES}
    for _ in range(count):
        serial = codec.serial(batch.first_ordinal + rng.randrange(batch.quantity))
        paths["verify"].append(f"/01/{gtin}/10/{quote(lot, safe='')}/21/{serial}")
        query = {"exp": exp, "corrUUID": str(uuid.uuid4()), "reqGLN": PARTNER_GLN, "context": "dscsaSaleableReturn"}
        paths["vrs"].append(f"/vrs/verify/gtin/{gtin}/lot/{quote(lot, safe='')}/ser/{serial}?{urlencode(query)}")
    return paths


def one_at_a_time(paths: dict[str, list[str]], key: str) -> dict[str, list[float]]:
    import http.client
    import time

    connections = {side: http.client.HTTPConnection("127.0.0.1", PORT, timeout=10) for side in SIDES}
    timings: dict[str, list[float]] = {side: [] for side in SIDES}
    for n in range(len(paths["verify"])):
        for side in SIDES if n % 2 == 0 else SIDES[::-1]:
            headers = {"Accept": "application/json"}
            if side == "vrs":
                headers["Authorization"] = f"Bearer {key}"
            started = time.perf_counter()
            connections[side].request("GET", paths[side][n], headers=headers)
            response = connections[side].getresponse()
            body = response.read()
            timings[side].append(1000 * (time.perf_counter() - started))
            if response.status != 200 or (side == "vrs" and json.loads(body)["data"] != {"verified": True}):
                raise RuntimeError(f"{side} {paths[side][n]} answered {response.status} {body[:200]!r}")
    for connection in connections.values():
        connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2_000, help="per side, one at a time (a)")
    parser.add_argument("--seconds", type=int, default=5, help="per side and round under load (b)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quantity", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    setup_django()
    batch, key = prepared(million_code_batch(args.quantity))
    paths = sample_paths(batch, max(args.requests + 300, 20_000))
    folder = Path(tempfile.mkdtemp())
    files = {}
    for side in SIDES:
        files[side] = folder / f"{side}.txt"
        files[side].write_text("\n".join(paths[side]) + "\n")
    server = start_gunicorn(args.workers)
    try:
        one_at_a_time({side: p[:300] for side, p in paths.items()}, key)  # warm up: caches, connections
        single = one_at_a_time({side: p[-args.requests :] for side, p in paths.items()}, key)
        rounds = []
        for n in range(args.rounds):
            order = SIDES if n % 2 == 0 else SIDES[::-1]
            rounds.append({side: wrk(files[side], args.seconds, key if side == "vrs" else None) for side in order})
    finally:
        stop(server)

    print(f"batch {batch.pk}: {batch.quantity:,} activated codes; gunicorn {args.workers} sync workers, loopback")
    print(f"(a) one request at a time, sides taking turns ({args.requests:,} requests each):")
    figures: dict[str, float] = {}
    for side in SIDES:
        p50, p99 = percentile(single[side], 50), percentile(single[side], 99)
        figures |= {f"single_{side}_p50": p50, f"single_{side}_p99": p99}
        print(f"  {side:<7} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    r50 = figures["single_vrs_p50"] / figures["single_verify_p50"]
    r99 = figures["single_vrs_p99"] / figures["single_verify_p99"]
    print(f"  vrs/verify: p50 x{r50:.2f}  p99 x{r99:.2f}")
    print(f"(b) wrk, {api_lookup.CONNECTIONS} connections, {args.rounds} rounds of {args.seconds} s per side:")
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
    ratios = {field: median([r["vrs"][field] / r["verify"][field] for r in rounds]) for field in ("rps", "p50", "p99")}
    figures |= {f"load_ratio_{field}": value for field, value in ratios.items()}
    for side in SIDES:
        print(
            f"  {side:<7} {figures[f'load_{side}_rps']:7,.0f} req/s  p50 {figures[f'load_{side}_p50']:6.1f} ms  "
            f"p99 {figures[f'load_{side}_p99']:6.1f} ms  (medians over rounds)"
        )
    print(f"  vrs/verify: req/s x{ratios['rps']:.2f}  p50 x{ratios['p50']:.2f}  p99 x{ratios['p99']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
