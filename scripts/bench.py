"""Benchmark grading on this machine (``make bench``): what grading costs against the floor of its real work.

Gradescope's default container has 768 MB of memory, 0.5 vCPU and a 10-minute timeout. Measured here, for every
assignment (``autograder.core.assignment.names()``; ``--assignment NAME`` for one), each as a process tree (wall and CPU
seconds of all its processes, ``RUSAGE_CHILDREN``; peak memory as the tree's summed PSS from
``/proc/PID/smaps_rollup``, shared pages split between sharers, sampled every 50 ms):

1. The floor: ``scripts/floor.py --assignment NAME``, a plain script doing only the work grading that assignment
   cannot avoid (import torch, read MNIST, the graded training run with the settings of its spec's ``TRAINING``,
   the test-set ELBO, and for an assignment with ``classifier_groups`` the digit classifier's predictions on
   generated images).
2. The grading of the same submission (the assignment's solution) as Gradescope grades it: the assignment's built
   autograder zip unpacked into a temporary /autograder, ``run_autograder`` run there. Then the ratios to the
   floor, every assignment in one row of one table. Targets: CPU <= 1.3 x the floor's; peak summed PSS <= 500 MB.
3. Where each grading's time goes: the fork server, each sandbox child (probe, lifetime, CPU), the trusted process.
4. The training speed of each measured assignment whose ``floor.py`` declares ``LAYERS``, its model's matmul
   shapes (Part 1: the solution's VAE, 784-400-(32,32)-400-784): CPU seconds per epoch of the graded run (batch
   128, Adam as configured, one thread as in the sandbox; on that thread's CPU clock), against the
   arithmetic bound: the epoch's matmul FLOPs over this machine's single-thread float32 matmul rate
   measured at the same shapes. Target: >= 0.6 x the bound.
5. Throughput of ``make grade`` (``grade-many --jobs 2``) on 50 copies of each measured assignment's solution
   (``--copies``). Target: the ``TARGET_PER_MINUTE`` of the assignment's ``floor.py`` (Parts 2 and 3, which train
   for tens of seconds: 5), else 10 a minute, on 2 cores.

Timings depend on the machine and on what else runs on it (the load average is printed); re-run after
changes to the sandbox. ``--skip-throughput`` leaves out step 5. ``--quick`` checks that the benchmark works, in
well under a minute per assignment: the floor stops after a few training steps, grading grades only the
assignment's first method (``python -m autograder grade --groups`` in the unpacked zip, no training), step 4 times
a few training steps and step 5 is left out; its numbers say nothing about the targets. Temporary files go under ``build/bench/``.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import itertools
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from autograder import config  # noqa: E402
from autograder.deploy import package  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402

MB = 2**20
#: The targets (Gradescope's default container: 768 MB, 0.5 vCPU, 600 s).
TARGET_CPU_RATIO, TARGET_MB, TARGET_BOUND_FRACTION, TARGET_PER_MINUTE = 1.3, 500.0, 0.6, 10.0
GRADESCOPE_VCPU, GRADESCOPE_TIMEOUT_S = 0.5, 600.0
#: Training steps of the floor in the quick mode (``--quick``).
QUICK_STEPS = 20
#: Training and matmuls run in one thread (as in the sandbox) and are timed on that thread's CPU clock,
#: which other work on a shared machine does not inflate the way it inflates wall time.
CLOCK = time.thread_time


# ---------------------------------------------------------------------------------------------
# Process-tree sampling


def _children_map() -> dict:
    children = {}
    for proc in os.listdir("/proc"):
        if not proc.isdigit():
            continue
        try:
            with open(f"/proc/{proc}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(proc))
    return children


def descendants(pid: int) -> list:
    """``pid`` and every process below it, from /proc."""
    children, found, todo = _children_map(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _memory_kb(pid: int) -> tuple:
    """(PSS, RSS) of ``pid`` in kB from smaps_rollup; (0, 0) when it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _describe(pid: int) -> str:
    """What a process of the grading tree is: "probe <name>", "fork server", "trusted", or its command."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [w.decode(errors="replace") for w in cmdline if w]
    except OSError:
        return "?"
    if any(w.endswith(("child.py", "forkserver.py")) for w in words):
        try:
            import json

            request = json.loads((Path(f"/proc/{pid}/cwd") / "request.json").read_text())
            return f"probe {request['probe']}"
        except (OSError, ValueError, KeyError):
            return "fork server" if any(w.endswith("forkserver.py") for w in words) else "probe ?"
    if Path(words[0]).name == "timeout" if words else False:
        return "timeout (run_autograder's time limit)"
    if "autograder" in words and "-m" in words:
        return "trusted (" + " ".join(words[words.index("autograder") + 1:][:1]) + ")"
    if any(w.endswith("floor.py") for w in words):
        return "floor"
    return Path(words[0]).name if words else "?"


class TreeSampler(threading.Thread):
    """Samples the process tree under ``pid`` every ``interval`` seconds until stopped.

    Records the peak summed PSS and RSS, and per process its description, first and last time seen,
    and its CPU seconds at the last sample.
    """

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss_kb = self.peak_rss_kb = 0
        self.processes = {}
        self._halt = threading.Event()

    def run(self):
        """Sample until :meth:`stop`."""
        start = time.monotonic()
        while not self._halt.is_set():
            now = time.monotonic() - start
            pss_sum = rss_sum = 0
            for pid in descendants(self.pid):
                pss, rss = _memory_kb(pid)
                pss_sum, rss_sum = pss_sum + pss, rss_sum + rss
                record = self.processes.get(pid)
                if record is None:
                    record = self.processes[pid] = {"what": _describe(pid), "first": now, "cpu": 0.0,
                                                    "peak_pss_kb": 0}
                record["last"] = now
                record["peak_pss_kb"] = max(record["peak_pss_kb"], pss)
                cpu = _cpu_seconds(pid)
                if cpu == cpu:
                    record["cpu"] = cpu
                if record["what"] in ("probe ?", "python", "python3") or record["what"].startswith("?"):
                    record["what"] = _describe(pid)
            self.peak_pss_kb = max(self.peak_pss_kb, pss_sum)
            self.peak_rss_kb = max(self.peak_rss_kb, rss_sum)
            self._halt.wait(self.interval)

    def stop(self):
        """Stop sampling and wait for the thread."""
        self._halt.set()
        self.join()


def measured_run(command: list, **kwargs) -> dict:
    """Run ``command`` to completion; its wall and CPU seconds (itself and all descendants), the peak of
    the tree's summed PSS and RSS, and the largest single process's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen(command, **kwargs)
    sampler = TreeSampler(process.pid)
    sampler.start()
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    process.wait()
    wall = time.monotonic() - start
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "user": after.ru_utime - before.ru_utime,
            "peak_pss_mb": sampler.peak_pss_kb / 1024, "peak_rss_mb": sampler.peak_rss_kb / 1024,
            "max_process_rss_mb": after.ru_maxrss / 1024, "processes": sampler.processes,
            "returncode": process.returncode, "stdout": output}


# ---------------------------------------------------------------------------------------------
# 1-2. The floor, and one submission as Gradescope grades it


def scratch(work: Path):
    """A temporary folder under ``work`` (the kit's git-ignored ``build/``), removed when the ``with`` ends."""
    work.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="bench-", dir=work)


def gradescope_layout(base: Path, assignment) -> Path:
    """Unpack a freshly built autograder zip of ``assignment`` (an :class:`autograder.core.assignment.Assignment`) into
    ``base/autograder`` as Gradescope would, with its solution notebook as the submission; returns that folder."""
    root = base / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    built = package.build(base / "autograder.zip", assignment.name)
    with zipfile.ZipFile(built) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    shutil.copy(assignment.solution_notebook, root / "submission" / assignment.notebook)
    return root


def grading_command(root: Path, assignment, groups) -> list:
    """What grades the submission in the layout ``root``: Gradescope's ``run_autograder``; with ``groups`` (a
    comma-separated string, the quick mode), ``python -m autograder grade --groups`` run from the unpacked zip."""
    if groups is None:
        return [str(root / "run_autograder")]
    return [sys.executable, "-m", "autograder", "grade", str(root / "submission" / assignment.notebook),
            "--assignment", assignment.name, "--groups", groups, "--results", str(root / "results" / "results.json")]


def grade_one(mnist: Path, assignment, work: Path, groups=None) -> dict:
    """Grade the solution of ``assignment`` once in the Gradescope layout (all groups through run_autograder, or
    only ``groups``); the measurements of :func:`measured_run`, the results.json and the training loop's CPU-s."""
    import json

    with scratch(work) as tmp:
        root = gradescope_layout(Path(tmp), assignment)
        env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
               "MNIST_ROOT": str(mnist)}
        run = measured_run(grading_command(root, assignment, groups), cwd=root / "source", env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        results = root / "results" / "results.json"
        if not results.is_file():
            raise RuntimeError(f"grading {assignment.name} wrote no results.json (exit status {run['returncode']}); "
                               f"its output ends:\n{run['stdout'][-2000:]}")
        run["results"] = json.loads(results.read_text())
    loop = re.search(r"training_loop_cpu_seconds = ([\d.]+)", run["stdout"])
    run["training_loop_cpu"] = float(loop[1]) if loop else float("nan")
    return run


def floor(mnist: Path, assignment, steps=None) -> dict:
    """``scripts/floor.py --assignment`` on the solution (at most ``steps`` training steps; None: the graded run):
    the measurements of :func:`measured_run`, with its one line in ``stdout``. Raises RuntimeError when it fails."""
    env = {"PATH": os.environ["PATH"], "MNIST_ROOT": str(mnist)}
    if os.environ.get("VAE_KIT_CLASSIFIER"):
        env["VAE_KIT_CLASSIFIER"] = os.environ["VAE_KIT_CLASSIFIER"]
    command = [sys.executable, str(KIT / "scripts" / "floor.py"), "--assignment", assignment.name,
               str(assignment.solution_notebook)] + ([] if steps is None else ["--steps", str(steps)])
    run = measured_run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if run["returncode"] != 0:
        raise RuntimeError(f"scripts/floor.py --assignment {assignment.name} failed (exit status "
                           f"{run['returncode']}):\n{run['stdout'][-2000:]}")
    return run


# ---------------------------------------------------------------------------------------------
# 4. Training against the arithmetic bound

def floor_script():
    """``scripts/floor.py`` as a module: the submission's module as the floor runs it, and each assignment's own
    ``floor.py``."""
    sys.path.insert(0, str(KIT / "scripts"))
    return importlib.import_module("floor")


def floor_module(assignment):
    """``assignment``'s own ``floor.py`` (``autograder/assignments/<name>/floor.py``): its graded run's setup, and
    ``LAYERS``, its model's matmul shapes, when it has its training speed measured."""
    return floor_script().floor_module(assignment.name)


def timed_assignments(measured: dict) -> list:
    """The assignments of ``measured`` (``{name: (floor run, grading run)}``) whose training speed step 4 measures:
    those whose ``floor.py`` declares ``LAYERS``, the (in, out) shapes of their model's matmuls."""
    from autograder.core.assignment import load

    return [load(name) for name in measured if hasattr(floor_module(load(name)), "LAYERS")]


def flops_per_sample(layers: tuple) -> int:
    """Matmul FLOPs of one training sample through ``layers`` ((in, out) each): forward 2*in*out per layer;
    backward 2*in*out for the weight gradient of every layer and 2*in*out for the input gradient of every layer
    but the first."""
    forward = sum(2 * i * o for i, o in layers)
    weight_grads = forward
    input_grads = forward - 2 * layers[0][0] * layers[0][1]
    return forward + weight_grads + input_grads


def matmul_rate(layers: tuple, batch: int = 128, repeats: int = 5, iterations: int = 50) -> dict:
    """Single-thread float32 matmul FLOP/s of torch at the shapes of one training step through ``layers`` (best of
    ``repeats``), and at a 1024^3 product for comparison."""
    import torch

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    products = []  # (a, b) pairs of one step's forward and backward matmuls
    for index, (i, o) in enumerate(layers):
        x, w, g = (torch.randn(batch, i, generator=gen), torch.randn(o, i, generator=gen),
                   torch.randn(batch, o, generator=gen))
        products += [(x, w.t()), (g.t(), x)]  # forward; weight gradient
        if index > 0:
            products.append((g, w))  # input gradient
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in products)
    best = float("inf")
    for _ in range(repeats):
        start = CLOCK()
        for _ in range(iterations):
            for a, b in products:
                torch.mm(a, b)
        best = min(best, (CLOCK() - start) / iterations)
    big = torch.randn(1024, 1024, generator=gen)
    big_best = float("inf")
    for _ in range(3):
        start = CLOCK()
        torch.mm(big, big)
        big_best = min(big_best, CLOCK() - start)
    return {"step_flops": flops, "rate": flops / best, "square_rate": 2 * 1024**3 / big_best}


def _timed_steps(loss_of, optimizer, batches, parts: dict) -> int:
    """One Adam step of the minibatch loss ``loss_of`` per batch of ``batches``, adding the CPU-s of loading
    batches, the forward pass, the backward pass and the step to ``parts``; returns the images trained on."""
    samples, mark = 0, CLOCK()
    for x in batches:
        now = CLOCK()
        parts["batches"] += now - mark
        optimizer.zero_grad()
        loss = loss_of(x)
        mark = CLOCK()
        parts["forward"] += mark - now
        loss.backward()
        now = CLOCK()
        parts["backward"] += now - mark
        optimizer.step()
        mark = CLOCK()
        parts["step"] += mark - now
        samples += len(x[0] if isinstance(x, (tuple, list)) else x)
    return samples


def training_epoch(mnist: Path, assignment, fused: bool, steps=None) -> dict:
    """Time one epoch of ``assignment``'s graded training run in this process: its solution's model, set up by its
    ``floor.py`` as the training probe sets it up (its batches, its loss), the sandbox's settings (one thread,
    Adam). Splits the time into loading batches, the forward pass (the submission's loss), the backward pass and
    the optimizer step. ``fused`` chooses ``Adam(fused=True)`` (the sandbox's, ``TRAINING.fused_adam``) or plain
    Adam, for comparison; ``steps`` (the quick mode) stops the epoch after that many steps. Returns CPU-s
    (``epoch``, ``parts``) and wall-s."""
    import torch

    cases = importlib.import_module(f"autograder.assignments.{assignment.name}.cases")
    params = {**cases.training(assignment.training, mnist)[0].params, "epochs": 1}
    torch.set_num_threads(config.LIMITS.threads)
    source = load_submission(assignment.solution_notebook, assignment).source
    module, probes = floor_script().child_modules(assignment.name, source)
    model, batches, loss_of = floor_module(assignment).setup(module, probes, params)
    optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"], **({"fused": True} if fused else {}))
    parts = {"batches": 0.0, "forward": 0.0, "backward": 0.0, "step": 0.0}
    wall, start = time.perf_counter(), CLOCK()
    samples = _timed_steps(loss_of, optimizer, itertools.islice(batches, steps), parts)
    return {"epoch": CLOCK() - start, "wall": time.perf_counter() - wall, "samples_per_epoch": samples,
            "parts": parts}


# ---------------------------------------------------------------------------------------------
# 5. Throughput of make grade


def throughput(mnist: Path, assignment, copies: int, jobs: int, work: Path) -> dict:
    """Grade ``copies`` copies of ``assignment``'s solution with ``grade-many --jobs`` (in a folder under
    ``work``); the measurements of :func:`measured_run` with ``per_minute``, submissions graded a minute."""
    with scratch(work) as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for index in range(copies):
            shutil.copy(assignment.solution_notebook, folder / f"copy{index:03d}{assignment.solution_notebook.suffix}")
        out = Path(tmp) / "grades"
        env = {**os.environ, "MNIST_ROOT": str(mnist)}
        run = measured_run([sys.executable, "-m", "autograder", "grade-many", str(folder), "--out", str(out),
                            "--jobs", str(jobs)], cwd=KIT, env=env, stdout=subprocess.DEVNULL)
        with open(out / "summary.csv") as f:
            rows = list(csv.DictReader(f))
    run["graded"] = len(rows)
    run["full_marks"] = sum(float(r["score"]) == float(r["max_score"]) for r in rows)
    run["per_minute"] = 60 * len(rows) / run["wall"]
    return run


# ---------------------------------------------------------------------------------------------


def table(rows: list) -> str:
    """Rows of strings as an aligned text table, the first row the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    """"ok" or "MISSED"."""
    return "ok" if ok else "MISSED"


def comparison_rows(measured: dict) -> list:
    """The side-by-side table: one row per assignment (``measured``: ``{name: (floor run, grading run)}``), with
    CPU-s, wall-clock s and peak summed PSS (MB) of the floor and of grading, their ratios and the verdicts."""
    rows = [["assignment", "CPU-s floor", "CPU-s grading", "CPU ratio", f"CPU <= {TARGET_CPU_RATIO}x", "wall-s floor",
             "wall-s grading", "wall ratio", "PSS MB floor", "PSS MB grading", f"PSS <= {TARGET_MB:.0f} MB",
             "CPU-s / 0.5 vCPU", f"< {GRADESCOPE_TIMEOUT_S:.0f} s", "score"]]
    for name, (low, one) in measured.items():
        ratio, at_half = one["cpu"] / low["cpu"], one["cpu"] / GRADESCOPE_VCPU
        results = one["results"]
        rows.append([name, f"{low['cpu']:.1f}", f"{one['cpu']:.1f}", f"{ratio:.2f}", verdict(ratio <= TARGET_CPU_RATIO),
                     f"{low['wall']:.1f}", f"{one['wall']:.1f}", f"{one['wall'] / low['wall']:.2f}",
                     f"{low['peak_pss_mb']:.0f}", f"{one['peak_pss_mb']:.0f}",
                     verdict(one["peak_pss_mb"] <= TARGET_MB), f"{at_half:.0f}",
                     verdict(at_half < GRADESCOPE_TIMEOUT_S), f"{results['score']:g}/{results['max_score']:g}"])
    return rows


def training_rows(assignment, one: dict, train: dict, bound: float, rate: dict, other: dict) -> list:
    """``assignment``'s training table: CPU-s of the graded epoch (in the sandbox, ``one``; here, ``train`` and
    ``other`` with the other Adam) against the arithmetic ``bound`` (s) at the matmul ``rate``."""
    fraction, sandbox = bound / train["epoch"], one["training_loop_cpu"]
    epoch_flops = flops_per_sample(floor_module(assignment).LAYERS) * train["samples_per_epoch"]
    part = assignment.title.partition(":")[0]
    rows = [[f"{part} ({assignment.name})", "measured", "target / detail", ""],
            ["training: CPU-s of the graded epoch, in the sandbox", *(  # not graded in the quick mode
                [f"{sandbox:.2f} s", f"{bound / sandbox:.2f} of the bound"] if sandbox == sandbox
                else ["not graded", ""]), ""],
            ["training: CPU-s per epoch here (1 thread)", f"{train['epoch']:.2f} s", f"wall {train['wall']:.2f} s", ""],
            ["  arithmetic bound (FLOPs / matmul rate)", f"{bound:.2f} s",
             f"{epoch_flops / 1e9:.0f} GFLOP / {rate['rate'] / 1e9:.1f} GFLOP/s", ""],
            ["  speed as a fraction of the bound", f"{fraction:.2f}", f">= {TARGET_BOUND_FRACTION}",
             verdict(fraction >= TARGET_BOUND_FRACTION)],
            [f"  with Adam(fused={not assignment.training.fused_adam}), not the sandbox's",
             f"{bound / other['epoch']:.2f}", f"{other['epoch']:.2f} s per epoch", ""]]
    return rows


def target_per_minute(assignment) -> float:
    """Submissions a minute that ``make grade`` should grade on 2 cores: the assignment's ``floor.py``'s
    ``TARGET_PER_MINUTE``, else :data:`TARGET_PER_MINUTE`."""
    return float(getattr(floor_module(assignment), "TARGET_PER_MINUTE", TARGET_PER_MINUTE))


def throughput_rows(many: dict, jobs: int) -> list:
    """The throughput table: per assignment (``many``: ``{name: throughput run}``), the copies graded, the
    submissions a minute against the target, wall and CPU of the batch, CPU-s per submission, full marks."""
    from autograder.core.assignment import load

    rows = [["assignment", "copies", f"per minute (--jobs {jobs})", "target", "", "wall-s / CPU-s of the batch",
             "CPU-s each", "full marks"]]
    for name, run in many.items():
        target = target_per_minute(load(name))
        rows.append([name, str(run["graded"]), f"{run['per_minute']:.1f}", f">= {target:g}",
                     verdict(run["per_minute"] >= target), f"{run['wall']:.0f} / {run['cpu']:.0f}",
                     f"{run['cpu'] / max(run['graded'], 1):.1f}", f"{run['full_marks']}/{run['graded']}"])
    return rows


def print_processes(name: str, one: dict) -> None:
    """Print where the time of ``name``'s grading ``one`` goes, process by process (CPU-s, peak PSS in MB)."""
    print(f"\n{name}: where the time of one grading goes (processes seen by the 50 ms sampler):")
    procs = sorted(one["processes"].values(), key=lambda p: p["first"])
    detail = [["process", "start", "alive", "CPU", "peak PSS"]]
    for p in procs:
        if p["what"].startswith(("probe", "trusted", "fork server")):
            detail.append([p["what"], f"{p['first']:.1f} s", f"{p['last'] - p['first']:.1f} s", f"{p['cpu']:.1f} s",
                           f"{p['peak_pss_kb'] / 1024:.0f} MB"])
    print(table(detail))
    children = [p for p in procs if p["what"].startswith("probe")]
    children_cpu = sum(p["cpu"] for p in children)
    print(f"{len(children)} sandbox children: {children_cpu:.1f} CPU-s of the {one['cpu']:.1f}; the fork server, "
          f"the trusted process and run_autograder the rest ({one['cpu'] - children_cpu:.1f} s).")


def print_training_parts(assignment, train: dict, rate: dict, other: dict) -> None:
    """Print ``assignment``'s training epoch split into its parts (CPU-s) and the optimizer step with either Adam."""
    parts, flops = train["parts"], flops_per_sample(floor_module(assignment).LAYERS)
    print("One training epoch, CPU-s split: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
          + f" ({train['samples_per_epoch']} images, {flops / 1e6:.2f} MFLOP each, "
          f"matmul rate at these shapes {rate['rate'] / 1e9:.1f} GFLOP/s, at 1024^3 {rate['square_rate'] / 1e9:.1f}).")
    print(f"The optimizer step takes {parts['step']:.2f} s per epoch with the sandbox's "
          f"Adam(fused={assignment.training.fused_adam}), {other['parts']['step']:.2f} s with the other.")


def measure(mnist: Path, assignment, work: Path, quick: bool) -> tuple:
    """The floor and the grading of ``assignment``'s solution, one after the other: (floor run, grading run). In
    the quick mode the floor stops after ``QUICK_STEPS`` steps and grading grades only the assignment's first
    method's group (no training). Raises RuntimeError when the solution does not get full marks."""
    low = floor(mnist, assignment, QUICK_STEPS if quick else None)
    one = grade_one(mnist, assignment, work, assignment.methods[0] if quick else None)
    results = one["results"]
    if results.get("score") != results.get("max_score") or not results.get("max_score"):
        raise RuntimeError(f"the {assignment.name} solution did not get full marks: {results.get('score')} / "
                           f"{results.get('max_score')}; grading's output ends:\n{one['stdout'][-2000:]}")
    print(f"{assignment.name}: floor: {low['stdout'].strip().splitlines()[-1]}; grading: {results['score']:g} / "
          f"{results['max_score']:g}", flush=True)
    return low, one


def training_speed(mnist: Path, assignment, one: dict, args) -> None:
    """``assignment``'s training speed against the arithmetic bound; prints it after the grading ``one`` of
    ``assignment``. In the quick mode: ``QUICK_STEPS`` steps of the epoch and the matmul rate from one short repeat
    (the code paths, not the figures)."""
    steps, layers = QUICK_STEPS if args.quick else None, floor_module(assignment).LAYERS
    fused = assignment.training.fused_adam
    rate = matmul_rate(layers, repeats=1, iterations=2) if args.quick else matmul_rate(layers)
    train = training_epoch(mnist, assignment, fused, steps=steps)
    other = training_epoch(mnist, assignment, not fused, steps=steps)
    bound = flops_per_sample(layers) * train["samples_per_epoch"] / rate["rate"]
    print()
    print(table(training_rows(assignment, one, train, bound, rate, other)))
    print_training_parts(assignment, train, rate, other)


def main(argv=None) -> int:
    """Run the benchmark and print its tables; returns the exit status (0 when everything was measured, whatever
    the verdicts)."""
    from autograder.core.assignment import load, names

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", choices=names(), help="measure only this assignment (default: every one)")
    parser.add_argument("--quick", action="store_true", help="one short run each, to check that the bench works: "
                        f"the floor and Part 1's timed epoch stop after {QUICK_STEPS} steps, grading grades the first method "
                        "only; no throughput")
    parser.add_argument("--copies", type=int, default=50, help="copies of each solution graded for the throughput")
    parser.add_argument("--jobs", type=int, default=2, help="grade-many --jobs for the throughput")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--work", type=Path, default=KIT / "build" / "bench", help="folder for temporary files")
    args = parser.parse_args(argv)
    mnist = config.mnist_root()
    import torch

    print(f"vae-kit benchmark{' (quick)' if args.quick else ''}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; Python "
          f"{platform.python_version()}, torch {torch.__version__}; kit {config.version()}\n", flush=True)
    chosen = [load(name) for name in ([args.assignment] if args.assignment else names())]
    measured = {a.name: measure(mnist, a, args.work, args.quick) for a in chosen}
    print()
    print(table(comparison_rows(measured)))
    for name, (_, one) in measured.items():
        print_processes(name, one)
    for assignment in timed_assignments(measured):
        training_speed(mnist, assignment, measured[assignment.name][1], args)
    if not (args.quick or args.skip_throughput):
        many = {a.name: throughput(mnist, a, args.copies, args.jobs, args.work) for a in chosen}
        print(f"\nmake grade's throughput, {args.copies} copies of each solution:")
        print(table(throughput_rows(many, args.jobs)))
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.2f} (other work on this machine slows the wall times).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
