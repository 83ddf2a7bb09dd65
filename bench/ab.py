"""A/B: one benchmark run from an older commit and from this checkout, in alternating rounds of one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        python bench/ab.py --base 53126b7 --rounds 3 verify_load --seconds 5 --rounds 2
    … python bench/ab.py --base 53126b7 --rounds 8 distributor_lookup --scans 4000

Everything after the benchmark's name goes to the benchmark (bench/verify_load.py, bench/distributor_lookup.py).
`--rounds N` before the name is rounds per side: base, head, base, head … (`--order abba`: base, head, head,
base …, which cancels a steady drift). Each round is one run of the benchmark in a subprocess, with the same
interpreter, environment and database:

- base: a throwaway `git worktree` of `--base` under /tmp (detached, never committed, removed at the end);
  head: this checkout as it is on disk (uncommitted edits included).
- Each side runs its own copy of the benchmark (its bench/ matches its code, so a refactor that moves what the
  benchmark imports still runs on both sides); `--harness head` copies this checkout's bench/ over the base's
  instead, so that both sides are measured by the same script (only if it still imports on the base).
  verify_load starts gunicorn from the checkout it runs from, so each side serves its own code.
- One database for both: this checkout's migrations are applied first; a base migration that this checkout
  does not have stops the run (the base needs a schema the head has left), and migrations only the head has are
  listed (the base code then runs on the head's schema: fine if they only add nullable or defaulted columns).
  The 1,000,000 codes (and distributor_lookup's assignments) are made once, from the head, before round 1.
- A round that fails is run once more (`--retries`): verify_load's stop() sometimes gives up waiting for a
  gunicorn that is still stopping (20 s) under load.
- A round's figures come from the benchmark's `--json FILE` where its script has it, else from its printed
  report (the format of 53126b7's scripts).

Prints each round's figures, then per side the median over its rounds, head/base of those medians and the
median of the head/base ratios of each base-head pair (≈ 1.00 when nothing changed; for throughput > 1 is
faster, for latencies < 1 is faster; differences in µs for the lookup's added cost). Machine load drifts:
compare the pair column with the per-round spread before calling anything a regression.

A verify_load run costs about 90 s before its rounds (six fresh-server first verifies, of which the three
"once ready" each wait out their 24 s: bench/settings.py's LOGGING silences gunicorn's "Worker ready" line they
look for; warm-ups) plus 2 x seconds x rounds + 2 x seconds; a distributor_lookup run about 1.5 ms per scan
plus a few seconds. About ten minutes each (2 shared cores):

    python bench/ab.py --base 53126b7 --rounds 3 --order abba verify_load --seconds 4 --rounds 2
    python bench/ab.py --base 53126b7 --rounds 20 --order abba distributor_lookup --scans 4000
"""

import argparse
import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("verify_load", "distributor_lookup")
MIGRATION = re.compile(r"^(?P<app>[\w/]+)/migrations/(?P<name>\d{4}\w*)\.py$")
NUMBER = r"([\d,]+(?:\.\d+)?)"
PREPARE = """
from _setup import setup_django
setup_django()  # this checkout's migrations
from verify_load import million_code_batch
batch = million_code_batch({quantity})
if {assignments}:
    from distributor_lookup import ensure_assignments
    ensure_assignments(batch)
print(f"data: batch {{batch.pk}}, {{batch.quantity:,}} codes")
"""


class RoundFailed(Exception):
    pass


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def migrations(paths: list[str]) -> set[str]:
    return {f"{m['app']}.{m['name']}" for path in paths if (m := MIGRATION.match(path))}


def check_schema(commit: str) -> None:
    """Both sides share one database, migrated by this checkout: the base must not need a migration it lacks."""
    base = migrations(git("ls-tree", "-r", "--name-only", commit).splitlines())
    head = migrations(git("ls-files", "--cached", "--others", "--exclude-standard").splitlines())
    if base - head:
        sys.exit(
            "The base has migrations this checkout does not have, so both cannot share one database schema:\n  "
            + "\n  ".join(sorted(base - head))
        )
    if head - base:
        print("note: the base runs on this checkout's schema, which adds (must be backward compatible):")
        print("  " + "\n  ".join(sorted(head - base)))


def number(text: str) -> float:
    return float(text.replace(",", ""))


def search(pattern: str, text: str) -> tuple[float, ...]:
    match = re.search(pattern.replace("NUM", NUMBER), text, re.MULTILINE)
    if not match:
        raise RoundFailed(f"no line matching {pattern!r} in the benchmark's report")
    return tuple(number(group) for group in match.groups())


def parse_verify_load(text: str) -> dict:
    """bench/verify_load.py's printed report (53126b7's format), into the keys its --json writes."""
    figures = {}
    for side in ("verify", "baseline"):
        values = search(rf"^{side} \(.*\)\s*:\s*NUM req/s\s+p50 NUM ms\s+p90 NUM ms\s+p99 NUM ms", text)
        figures |= dict(zip((f"{side}_{k}" for k in ("rps", "p50", "p90", "p99")), values, strict=True))
    (figures["ratio"],) = search(r"^ratio verify/baseline: NUM", text)
    (figures["p99_ratio"],) = search(r"^p99 verify/baseline: NUM", text)
    for key, label in (("first_verify_ms", r"^a fresh worker's first verify"), ("cold_first_verify_ms", "opens")):
        line = re.search(rf"{label}.*?: ([\d, ]+) ms", text, re.MULTILINE)
        if not line:
            raise RoundFailed(f"no {key} in the benchmark's report")
        figures[key] = [number(value) for value in line.group(1).split(", ")]
    values = search(r"^at ~50% of peak \(NUM req/s\): p50 NUM ms\s+p99 NUM ms", text)
    figures |= dict(zip(("half_rps", "half_p50", "half_p99"), values, strict=True))
    values = search(r"^scans: NUM answered, NUM logged, NUM lost; NUM socket errors", text)
    figures |= dict(zip(("answered", "logged", "lost", "socket_errors"), values, strict=True))
    return figures


def parse_distributor_lookup(text: str) -> dict:
    """bench/distributor_lookup.py's printed report (53126b7's format), into the keys its --json writes."""
    alone = search(r"^lookup \+ territory.*: p50 NUM µs, p99 NUM µs", text)
    figures = dict(zip(("alone_p50", "alone_p99"), alone, strict=True))
    for mode in ("off", "on"):
        values = search(rf"^verify, lookup +{mode}: p50 +NUM µs, p99 +NUM µs, mean +NUM µs \(NUM scans\)", text)
        figures |= dict(zip((f"{mode}_p50", f"{mode}_p99", f"{mode}_mean", "scans"), values, strict=True))
    added = search(r"^added by the lookup: p50 ([-+][\d.]+) µs, p99 ([-+][\d.]+) µs", text)
    figures |= dict(zip(("added_p50", "added_p99"), added, strict=True))
    return figures


PARSERS = {"verify_load": parse_verify_load, "distributor_lookup": parse_distributor_lookup}

# (key, label, how head compares with base: "ratio" or "diff"); lists are reduced to their median per round.
SUMMARY = {
    "verify_load": [
        ("verify_rps", "verify req/s", "ratio"),
        ("verify_p50", "verify p50 ms", "ratio"),
        ("verify_p99", "verify p99 ms", "ratio"),
        ("baseline_rps", "baseline req/s (bare view)", "ratio"),
        ("baseline_p99", "baseline p99 ms", "ratio"),
        ("ratio", "verify/baseline req/s", "ratio"),
        ("p99_ratio", "verify/baseline p99", "ratio"),
        ("half_p99", "p99 at ~50% of peak ms", "ratio"),
        ("first_verify_ms", "fresh worker's first verify ms", "ratio"),
        ("cold_first_verify_ms", "first verify as port opens ms", "ratio"),
        ("lost", "scans lost", "diff"),
    ],
    "distributor_lookup": [
        ("on_p50", "verify, lookup on p50 µs", "ratio"),
        ("on_p99", "verify, lookup on p99 µs", "ratio"),
        ("on_mean", "verify, lookup on mean µs", "ratio"),
        ("off_p50", "verify, lookup off p50 µs", "ratio"),
        ("off_p99", "verify, lookup off p99 µs", "ratio"),
        ("added_p50", "added by the lookup p50 µs", "diff"),
        ("added_p99", "added by the lookup p99 µs", "diff"),
        ("alone_p99", "lookup + check alone p99 µs", "ratio"),
    ],
}


def value(figures: dict, key: str) -> float:
    found = figures[key]
    return statistics.median(found) if isinstance(found, list) else found


def round_line(name: str, f: dict) -> str:
    if name == "verify_load":
        return (
            f"verify {f['verify_rps']:6,.0f} req/s p50 {f['verify_p50']:6.1f} p99 {f['verify_p99']:6.1f} ms | "
            f"baseline {f['baseline_rps']:6,.0f} req/s p99 {f['baseline_p99']:6.1f} ms | ratio {f['ratio']:.2f} | "
            f"first {value(f, 'first_verify_ms'):.0f} ms | half-peak p99 {f['half_p99']:.1f} ms | lost {f['lost']:.0f}"
        )
    return (
        f"lookup on p50 {f['on_p50']:7.1f} p99 {f['on_p99']:7.1f} µs | off p50 {f['off_p50']:7.1f} "
        f"p99 {f['off_p99']:7.1f} µs | added p99 {f['added_p99']:+7.1f} µs | alone p99 {f['alone_p99']:.1f} µs"
    )


def port_of(script: Path) -> int | None:
    match = re.search(r"^PORT = (\d+)", script.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def wait_port_free(port: int) -> None:
    """A server left over from the previous round would be measured in place of this side's."""
    for _ in range(120):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.5)
    raise RoundFailed(f"port {port} is still taken (a server from an earlier round or another run?)")


def run_round(checkout: Path, name: str, bench_args: list[str], logs: Path, tag: str) -> dict:
    script = checkout / "bench" / f"{name}.py"
    command = [sys.executable, str(script), *bench_args]
    json_file = logs / f"{tag}.json"
    if '"--json"' in script.read_text():
        command += ["--json", str(json_file)]
    if port := port_of(script):
        wait_port_free(port)
    out_file = logs / f"{tag}.out"
    with out_file.open("w") as out:
        # Its own session: a Ctrl-C reaches it only through us, once, so that it stops its server itself.
        process = subprocess.Popen(command, cwd=checkout, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait()
        except BaseException:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            raise
    output = out_file.read_text()
    if process.returncode:
        tail = "\n".join(line for line in output.splitlines() if "staticfiles" not in line)[-3000:]
        raise RoundFailed(f"{tag}: {' '.join(command)} exited {process.returncode}:\n{tail}")
    return json.loads(json_file.read_text()) if json_file.exists() else PARSERS[name](output)


def prepare(head: Path, name: str, bench_args: list[str], logs: Path) -> None:
    """This checkout's migrations, then the shared data, made once before any round (not timed)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=head, check=True)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quantity", type=int, default=1_000_000)
    quantity = parser.parse_known_args(bench_args)[0].quantity
    code = PREPARE.format(quantity=quantity, assignments=name == "distributor_lookup")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=head / "bench", capture_output=True, text=True, check=False
    )
    if result.returncode:  # e.g. the helpers moved: the first round makes the data instead (from whichever side)
        (logs / "prepare.out").write_text(result.stdout + result.stderr)
        print("note: could not prepare the data from this checkout; round 1 will:\n" + result.stderr[-1500:])
    else:
        print(result.stdout.strip())


def figure(number: float) -> str:
    return f"{number:10,.1f}" if abs(number) >= 10 else f"{number:10.3f}"  # ratios such as verify/baseline


def summarize(name: str, rounds: list[tuple[str, dict]], pairs: list[tuple[dict, dict]]) -> None:
    sides = {side: [f for s, f in rounds if s == side] for side in ("base", "head")}
    print(f"\nmedians over {len(sides['base'])} rounds per side     base        head   head/base  pairs (median)")
    for key, label, compare in SUMMARY[name]:
        base = statistics.median(value(f, key) for f in sides["base"])
        head = statistics.median(value(f, key) for f in sides["head"])
        if compare == "ratio":
            of_medians = f"{head / base:9.3f}" if base else "        -"
            ratios = [value(h, key) / value(b, key) for b, h in pairs if value(b, key)]
            paired = f"{statistics.median(ratios):9.3f}" if ratios else "        -"
            print(f"  {label:<31} {figure(base)}  {figure(head)}  {of_medians}  {paired}")
        else:
            differences = [value(h, key) - value(b, key) for b, h in pairs]
            paired = f"{statistics.median(differences):+9.1f}" if differences else "        -"
            print(f"  {label:<31} {figure(base)}  {figure(head)}  {head - base:+9.1f}  {paired}  (difference)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", required=True, help="git ref of the code before the change, e.g. 53126b7")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side (default 3)")
    parser.add_argument("--order", choices=("abab", "abba"), default="abab")
    parser.add_argument("--warmup", type=int, default=0, help="unreported base-head pairs first (default 0)")
    parser.add_argument("--harness", choices=("own", "head"), default="own", help="whose bench/ runs the base")
    parser.add_argument("--retries", type=int, default=1, help="runs again a round that fails (default 1)")
    parser.add_argument("--log-dir", type=Path, help="keep each round's output here")
    parser.add_argument("benchmark", choices=BENCHMARKS)
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    args = parser.parse_args()
    if "--json" in args.bench_args:
        parser.error("--json is ab.py's to pass")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    commit = git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    head_commit = git("rev-parse", "--short=12", "HEAD")
    if git("status", "--porcelain"):
        head_commit += " + uncommitted edits"
    check_schema(commit)

    # SIGTERM as Ctrl-C: the round in progress stops its server and the worktree is removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    scratch = Path(tempfile.mkdtemp(prefix="serialize-ab-"))
    base = scratch / "base"
    logs = args.log_dir or scratch / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        git("worktree", "add", "--detach", str(base), commit)
        if args.harness == "head":
            shutil.copytree(ROOT / "bench", base / "bench", dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pyc"))
        print(f"base {commit[:12]} ({base}), head {head_commit} ({ROOT})")
        print(f"{args.benchmark} {' '.join(args.bench_args)}: {args.rounds} rounds per side, {args.order}")
        prepare(ROOT, args.benchmark, args.bench_args, logs)
        cycle = ("base", "head") if args.order == "abab" else ("base", "head", "head", "base")
        total = 2 * (args.rounds + args.warmup)
        order = [cycle[n % len(cycle)] for n in range(total)]
        rounds: list[tuple[str, dict]] = []
        for n, side in enumerate(order):
            measured = n >= 2 * args.warmup
            tag = f"round{n + 1:02d}-{side}" if measured else f"warmup{n + 1:02d}-{side}"
            for attempt in range(args.retries + 1):
                round_started = time.monotonic()
                try:
                    figures = run_round(base if side == "base" else ROOT, args.benchmark, args.bench_args, logs, tag)
                    break
                except RoundFailed as failure:
                    if attempt == args.retries:
                        raise
                    print(f"  {tag} failed, once more: {str(failure).splitlines()[-1]}", flush=True)
            seconds = time.monotonic() - round_started
            if measured:
                rounds.append((side, figures))
                label = f"round {len(rounds)} {side}"
            else:
                label = f"warm-up {side}"
            print(f"  {label:<13} {round_line(args.benchmark, figures)}  ({seconds:.0f} s)", flush=True)
        # Pairs: each round with its neighbour of the other side (round 1 and 2, 3 and 4, …).
        pairs = []
        for first, second in zip(rounds[::2], rounds[1::2], strict=False):
            by_side = dict([first, second])
            pairs.append((by_side["base"], by_side["head"]))
        summarize(args.benchmark, rounds, pairs)
        print(f"total {time.monotonic() - started:.0f} s")
    except RoundFailed as failure:
        sys.exit(f"stopped: {failure}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True, check=False)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True, check=False)
        shutil.rmtree(scratch, ignore_errors=True)  # the logs too, unless --log-dir put them elsewhere


if __name__ == "__main__":
    main()
