#!/usr/bin/env python3
"""Runs the README's tutorial literally, from the README's own code blocks.

The README marks the blocks that make up the tutorial with HTML comments
(invisible once rendered), each right before a fenced block:

  <!-- tutorial:file NAME -->   the block is the whole content of file NAME
  <!-- tutorial:run -->         the block's lines are run, in order, in one bash
                                session (so `cd`, `&` and `kill %1` work as typed);
                                a fenced block right after it, if marked
                                <!-- tutorial:output -->, is what they print
  <!-- tutorial:poll -->        one command, run again every 0.2 s until it prints
                                exactly the <!-- tutorial:output --> block that
                                follows (records take a moment to reach a table)
  <!-- tutorial:wait-for FILE TEXT -->
                                no block: waits until FILE contains TEXT (what the
                                reader is told to wait for before going on)

Every marked block is used and nothing else: the test fails when a marker is
not followed by a fenced block, so the README cannot quietly drop a step.

usage: run_tutorial.py README WORK_DIR
The environment decides which moose-c the tutorial finds (PATH for moosec,
CMAKE_PREFIX_PATH for find_package(moose)).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

POLL_SECONDS = 60
WAIT_SECONDS = 30
MARKER = re.compile(r"^<!--\s*tutorial:(\S+)(.*?)-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)")


class TutorialError(Exception):
    pass


def read_fenced(lines, i, where):
    """The fenced block starting at line I (blank lines before it allowed): (text, next i)."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not FENCE.match(lines[i]):
        raise TutorialError(f"{where}: the marker is not followed by a fenced code block")
    fence = FENCE.match(lines[i]).group(1)
    start = i + 1
    i = start
    while i < len(lines) and not lines[i].startswith(fence):
        i += 1
    if i >= len(lines):
        raise TutorialError(f"{where}: the code block is never closed")
    return "".join(lines[start:i]), i + 1


def steps_of(readme_path):
    """The tutorial's steps, in order, as (kind, where, args, text, expected)."""
    with open(readme_path, encoding="utf-8") as f:
        lines = f.readlines()
    steps = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].strip())
        if not m:
            i += 1
            continue
        kind, args = m.group(1), shlex.split(m.group(2))
        where = f"{readme_path}:{i + 1}"
        i += 1
        if kind == "output":
            raise TutorialError(f"{where}: an output block must follow a run or poll block")
        if kind == "wait-for":
            if len(args) != 2:
                raise TutorialError(f"{where}: wait-for needs FILE and TEXT")
            steps.append((kind, where, args, None, None))
            continue
        if kind not in ("file", "run", "poll"):
            raise TutorialError(f"{where}: unknown marker tutorial:{kind}")
        if kind == "file" and len(args) != 1:
            raise TutorialError(f"{where}: tutorial:file needs one file name")
        text, i = read_fenced(lines, i, where)
        expected = None
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines):
            m2 = MARKER.match(lines[j].strip())
            if m2 and m2.group(1) == "output":
                expected, i = read_fenced(lines, j + 1, f"{readme_path}:{j + 1}")
        if kind == "poll" and expected is None:
            raise TutorialError(f"{where}: a poll block needs an output block after it")
        steps.append((kind, where, args, text, expected))
    if not steps:
        raise TutorialError(f"{readme_path}: no tutorial markers found")
    return steps


def script_of(steps, status_dir):
    """One bash script doing every step; a failing step names its README line."""
    out = [
        "set -euo pipefail",
        # Whatever the tutorial started in the background is stopped on the way out.
        "trap 'for p in $(jobs -p); do kill -TERM $p 2>/dev/null || true; done; wait' EXIT",
        "step_failed() { echo \"tutorial step at $1 failed\" >&2; exit 1; }",
    ]
    for n, (kind, where, args, text, expected) in enumerate(steps):
        if kind == "file":
            out.append(f"# {where}")
            out.append(f"cat > {shlex.quote(args[0])} <<'MOOSE_TUTORIAL_EOF'")
            out.append(text.rstrip("\n"))
            out.append("MOOSE_TUTORIAL_EOF")
        elif kind == "wait-for":
            path, needle = args
            out.append(f"# {where}")
            out.append(
                f"for i in $(seq {WAIT_SECONDS * 10}); do "
                f"grep -qF -- {shlex.quote(needle)} {shlex.quote(path)} 2>/dev/null && break; "
                f"sleep 0.1; done")
            out.append(
                f"grep -qF -- {shlex.quote(needle)} {shlex.quote(path)} || "
                f"{{ echo '{where}: {path} does not say {needle!r} after {WAIT_SECONDS}s' >&2; "
                f"cat {shlex.quote(path)} >&2 || true; exit 1; }}")
        elif kind == "run":
            out.append(f"# {where}")
            if expected is None:
                out.append(text.rstrip("\n"))
            else:
                got = os.path.join(status_dir, f"output-{n}.txt")
                want = os.path.join(status_dir, f"expected-{n}.txt")
                with open(want, "w", encoding="utf-8") as f:
                    f.write(expected)
                # The block's own status is not the check: its printout is.
                out.append("{")
                out.append(text.rstrip("\n"))
                out.append(f"}} > {shlex.quote(got)} 2>&1 || true")
                out.append(f"diff -u {shlex.quote(want)} {shlex.quote(got)} >&2 || "
                           f"step_failed {shlex.quote(where + ' (its output differs from the README)')}")
        elif kind == "poll":
            got = os.path.join(status_dir, f"output-{n}.txt")
            want = os.path.join(status_dir, f"expected-{n}.txt")
            with open(want, "w", encoding="utf-8") as f:
                f.write(expected)
            command = text.strip()
            out.append(f"# {where}")
            out.append(f"for i in $(seq {POLL_SECONDS * 5}); do")
            out.append(f"  {{ {command}\n  }} > {shlex.quote(got)} 2>&1 || true")
            out.append(f"  cmp -s {shlex.quote(want)} {shlex.quote(got)} && break")
            out.append("  sleep 0.2")
            out.append("done")
            out.append(f"diff -u {shlex.quote(want)} {shlex.quote(got)} >&2 || "
                       f"step_failed {shlex.quote(where + f' (not the README output after {POLL_SECONDS}s)')}")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    readme, work = sys.argv[1], sys.argv[2]
    try:
        steps = steps_of(readme)
    except TutorialError as e:
        print(f"run_tutorial: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    status_dir = os.path.join(work, ".tutorial")
    os.makedirs(status_dir)
    script = script_of(steps, status_dir)
    script_path = os.path.join(status_dir, "tutorial.sh")
    with open(script_path, "w", encoding="utf-8") as f:
        f.write(script)
    env = dict(os.environ)
    # The tutorial runs on the embedded defaults, whatever the caller's shell says.
    for var in ("MOOSE_BROKERS", "MOOSE_TABLES"):
        env.pop(var, None)
    print(f"run_tutorial: {len(steps)} steps from {readme}; script {script_path}", flush=True)
    rc = subprocess.call(["bash", script_path], cwd=work, env=env)
    if rc != 0:
        print(f"run_tutorial: the tutorial failed (exit {rc}); its script: {script_path}",
              file=sys.stderr)
        return 1
    print("run_tutorial: every step ran as the README says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
