#!/usr/bin/env python3
"""Times several commands in alternation: round after round, each command once per round (the
order rotated every round), so that a change in the machine's load weighs on all of them alike.
hyperfine times one command after the other, which on a shared machine makes ratios drift.

Usage: alternate.py --runs N [--warmup W] [--results FILE --op OP --n N] \
           --item NAME PREPARE COMMAND [--item ...] [--status NAME CODE ...]
  PREPARE runs (untimed, through sh) before each timed run of COMMAND; '' for none.
  --status: the exit status item NAME must end with (0 unless given): a command timed up to
  where it stops on purpose, e.g. at a vault that does not exist.
  COMMAND runs through sh -c only when it needs a shell (pipes, ;, &&, $, redirections);
  otherwise it is executed directly, so no shell's start-up is in the figure.
Each run is timed twice: wall-clock, and the CPU time (user + system) of the process and of the
children it waited for (wait4's rusage: a shell pipeline's commands count), which a busy machine
moves far less. Prints one line per item on stderr; with --results, appends
`OP<TAB>N<TAB>NAME<TAB>MEDIAN_MS` and `cpu-OP<TAB>N<TAB>NAME<TAB>MEDIAN_CPU_MS` lines (or
`failed`) and one `load` line: the 1-minute load average before and after the block.
"""
import argparse, os, shlex, statistics, subprocess, sys, time

SHELL_SYNTAX = set("|;&$<>()`*?~{}\n")


def argv_for(command):
    if SHELL_SYNTAX & set(command):
        return ["sh", "-c", command]
    return shlex.split(command)


def run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def timed(argv):
    """(exit status, wall ms, CPU ms) of one run of argv."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--results")
    parser.add_argument("--op", default="")
    parser.add_argument("--n", default="")
    parser.add_argument("--item", nargs=3, action="append", metavar=("NAME", "PREPARE", "COMMAND"), required=True)
    parser.add_argument("--status", nargs=2, action="append", default=[], metavar=("NAME", "CODE"))
    args = parser.parse_args()
    expected = {name: int(code) for name, code in args.status}

    items = []
    for name, prepare, command in args.item:
        item = {"name": name, "prepare": prepare, "argv": argv_for(command), "times": [], "cpu": [],
                "status": expected.get(name, 0)}
        if prepare:
            run(["sh", "-c", prepare])
        checked = subprocess.run(item["argv"], stdin=subprocess.DEVNULL, capture_output=True)
        if checked.returncode != item["status"]:
            tail = " ".join(checked.stderr.decode(errors="replace").strip().splitlines()[-2:])
            print(f"  {args.op}/{args.n}/{name}: the command failed, not timed: {tail}", file=sys.stderr)
            item["failed"] = True
        items.append(item)
    live = [item for item in items if not item.get("failed")]

    before = load()
    for round_number in range(args.warmup + args.runs):
        shift = round_number % max(len(live), 1)
        for item in live[shift:] + live[:shift]:
            if item["prepare"]:
                run(["sh", "-c", item["prepare"]])
            status, wall, cpu = timed(item["argv"])
            if status != item["status"]:
                item["failed"] = True
            if round_number >= args.warmup:
                item["times"].append(wall)
                item["cpu"].append(cpu)
    after = load()

    lines = []
    for item in items:
        if item.get("failed"):
            value = cpu = "failed"
        else:
            value = "%.1f" % statistics.median(item["times"])
            cpu = "%.1f" % statistics.median(item["cpu"])
        print(f"  {args.op}/{args.n}/{item['name']}: {value} ms (CPU {cpu} ms)", file=sys.stderr)
        lines.append(f"{args.op}\t{args.n}\t{item['name']}\t{value}\n")
        lines.append(f"cpu-{args.op}\t{args.n}\t{item['name']}\t{cpu}\n")
    print(f"  (load {before} before, {after} after; {args.runs} alternating rounds)", file=sys.stderr)
    lines.append(f"load\t{args.n}\t{args.op}\t{before} -> {after}\n")
    if args.results:
        with open(args.results, "a") as out:
            out.writelines(lines)


if __name__ == "__main__":
    main()
