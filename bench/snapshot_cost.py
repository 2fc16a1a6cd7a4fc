"""What the index snapshot's checksums cost: open + first get and save, against an older commit.

    .venv/bin/python bench/snapshot_cost.py --scale 0.1 --before 93e216d
    .venv/bin/python bench/snapshot_cost.py --scale 1 --before 93e216d --repeat 5

Uses the same synthetic log as `bench/run.py` (made once under bench/out). For each code
version (this checkout, then `--before`, checked out into a temporary git worktree and put
first on PYTHONPATH of the children), a fresh process rebuilds the index and saves it in that
version's snapshot format, then `--repeat` fresh processes open the catalog and answer one
get, and one process saves the snapshot `--repeat` times. The baseline is the older commit,
measured in the same run on the same log. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from typing import Any

import synth
from context import prepare, say
from measure import ChildError, child, duration, median

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=0.1, help="fraction of full size (default 0.1)")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic history")
    p.add_argument("--root", default=os.path.join(HERE, "out"), help="work folder (bench/out)")
    p.add_argument("--before", default=None, help="a git commit to measure beside this checkout")
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per open figure (3)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per subprocess")
    p.add_argument("--fresh", action="store_true", help="write the log again even if it exists")
    args = p.parse_args(argv)
    args.ref_instruments = 0
    return args


def measure(label: str, folder: str, symbol: str, args: argparse.Namespace) -> dict[str, Any]:
    """Rebuild (in this version's format), then time open + first get and save."""
    say(f"\n[{label}]")
    rebuilt, _ = child("rebuild-project", folder, timeout=args.timeout)
    say(f"  rebuild + save: {duration(rebuilt['seconds'])}")
    opens: list[float] = []
    for _ in range(args.repeat):
        answer, wall = child(
            "open-project", folder, symbol, "2024-12-31T00:00:00+00:00", timeout=args.timeout
        )
        opens.append(wall)
        say(
            f"  open + first get: wall {duration(wall)} (open {duration(answer['open_s'])}, "
            f"first get {duration(answer['get_s'])}) -> {answer['found']}"
        )
    saved, _ = child("save-project", folder, str(args.repeat), timeout=args.timeout)
    say(
        f"  save: {', '.join(duration(s) for s in saved['seconds'])} "
        f"({saved['bytes'] / 1e6:,.1f} MB, position {saved['position']:,})"
    )
    return {"open": median(opens), "save": median(saved["seconds"])}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    n, e = synth.sizes(args.scale)
    say(f"snapshot cost: scale {args.scale:g} = {n:,} instruments, {e:,} events")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    say(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews the figures)")
    bench = prepare(args, {"open"})
    symbol = str(bench.open_rows(1, seed=args.seed + 3).iloc[0]["symbol"])
    rows = {"this checkout": measure("this checkout", bench.folder, symbol, args)}
    if args.before:
        with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
            tree = os.path.join(tmp, "tree")
            subprocess.run(
                ["git", "-C", REPO, "worktree", "add", "-q", "--detach", tree, args.before],
                check=True,
            )
            try:
                os.environ["PYTHONPATH"] = tree
                rows[args.before] = measure(args.before, bench.folder, symbol, args)
            except ChildError as exc:
                say(f"  {args.before}: {exc}")
            finally:
                os.environ.pop("PYTHONPATH", None)
                subprocess.run(
                    ["git", "-C", REPO, "worktree", "remove", "--force", tree], check=False
                )
        # leave the index in this checkout's format for the other benchmarks
        child("rebuild-project", bench.folder, timeout=args.timeout)
    print(f"\nsnapshot cost at scale {args.scale:g} ({e:,} events), medians:")
    print(f"  {'code':<16} {'open + first get':>18} {'save':>12}")
    for label, figures in rows.items():
        print(f"  {label:<16} {duration(figures['open']):>18} {duration(figures['save']):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
