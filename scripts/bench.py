"""Benchmark grading on this machine (``make bench``): does grading fit Gradescope's default container?

Gradescope's default container has 768 MB of memory, 0.5 vCPU and a 10-minute timeout. Measured here:

1. One submission (the solution) graded as Gradescope grades it: the built autograder.zip unpacked into
   a temporary /autograder, ``run_autograder`` run there. Wall and CPU seconds of all its processes
   (``RUSAGE_CHILDREN``), and the peak memory of all of them together: the process tree's summed PSS
   (``/proc/PID/smaps_rollup``; shared pages counted once, split between sharers) sampled every 50 ms,
   with summed RSS (double-counts shared pages) and the largest single process's peak RSS beside it.
   Targets: <= 120 CPU-s and <= 600 MB.
2. Where that time goes: the sandbox children one by one (probe, lifetime, CPU), the cost of importing
   torch in a fresh interpreter (every child pays it), and the trusted process.
3. Training: seconds per epoch of the graded run (the solution's VAE, 784-400-(32,32)-400-784, batch
   128, Adam as configured, one thread as in the sandbox; on that thread's CPU clock), against the arithmetic bound: the epoch's matmul FLOPs over
   this machine's single-thread float32 matmul rate measured at the same shapes. Target: training
   speed >= 0.5 x the bound.
4. Throughput of ``make grade`` (``grade-many --jobs 2``) on 50 copies of the solution.

Timings depend on the machine and on what else runs on it (the load average is printed); re-run after
changes to the sandbox. ``--skip-throughput`` leaves out step 4 (about 10 minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from autograder import config, harness, package  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

SOLUTION = KIT / "solution" / "vae.ipynb"
MB = 2**20
#: The targets of the issue (Gradescope's default container: 768 MB, 0.5 vCPU, 600 s).
TARGET_CPU_S, TARGET_MB, TARGET_BOUND_FRACTION = 120.0, 600.0, 0.5
GRADESCOPE_VCPU, GRADESCOPE_TIMEOUT_S = 0.5, 600.0
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
    """What a process of the grading tree is: "probe <name>", "trusted", or its command."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [w.decode(errors="replace") for w in cmdline if w]
    except OSError:
        return "?"
    if any(w.endswith("child.py") for w in words):
        try:
            import json

            request = json.loads((Path(f"/proc/{pid}/cwd") / "request.json").read_text())
            return f"probe {request['probe']}"
        except (OSError, ValueError, KeyError):
            return "probe ?"
    if Path(words[0]).name == "timeout" if words else False:
        return "timeout (run_autograder's time limit)"
    if "autograder" in words and "-m" in words:
        return "trusted (" + " ".join(words[words.index("autograder") + 1:][:1]) + ")"
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
    process.wait()
    wall = time.monotonic() - start
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "user": after.ru_utime - before.ru_utime,
            "peak_pss_mb": sampler.peak_pss_kb / 1024, "peak_rss_mb": sampler.peak_rss_kb / 1024,
            "max_process_rss_mb": after.ru_maxrss / 1024, "processes": sampler.processes,
            "returncode": process.returncode}


# ---------------------------------------------------------------------------------------------
# 1-2. One submission as Gradescope grades it


def gradescope_layout(base: Path, submission: Path) -> Path:
    """Unpack a freshly built autograder.zip into ``base/autograder`` as Gradescope would."""
    root = base / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    built = package.build(base / "autograder.zip")
    with zipfile.ZipFile(built) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    shutil.copy(submission, root / "submission" / "vae.ipynb")
    return root


def grade_one(mnist: Path) -> dict:
    """Grade the solution once through run_autograder; the measurements and the results.json."""
    import json

    with tempfile.TemporaryDirectory(prefix="vae-kit-bench-") as tmp:
        root = gradescope_layout(Path(tmp), SOLUTION)
        env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
               "MNIST_ROOT": str(mnist)}
        run = measured_run([str(root / "run_autograder")], cwd=root, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        run["results"] = json.loads((root / "results" / "results.json").read_text())
    return run


def torch_import_cost(repeats: int = 3) -> dict:
    """Wall and CPU seconds of ``python -I -c "import torch"`` (what every sandbox child pays), medians."""
    walls, cpus = [], []
    for _ in range(repeats):
        run = measured_run([sys.executable, "-I", "-c", "import torch"])
        walls.append(run["wall"])
        cpus.append(run["cpu"])
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


# ---------------------------------------------------------------------------------------------
# 3. Training against the arithmetic bound

LAYERS = ((784, 400), (400, 32), (400, 32), (32, 400), (400, 784))  # (in, out): linear1, 21, 22, 3, 4


def flops_per_sample() -> int:
    """Matmul FLOPs of one training sample: forward 2*in*out per layer; backward 2*in*out for the weight
    gradient of every layer and 2*in*out for the input gradient of every layer but the first."""
    forward = sum(2 * i * o for i, o in LAYERS)
    weight_grads = forward
    input_grads = forward - 2 * LAYERS[0][0] * LAYERS[0][1]
    return forward + weight_grads + input_grads


def matmul_rate(batch: int = 128, repeats: int = 5, iterations: int = 50) -> dict:
    """Single-thread float32 matmul FLOP/s of torch at the shapes of one training step (best of
    ``repeats``), and at a 1024^3 product for comparison."""
    import torch

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    products = []  # (a, b) pairs of one step's forward and backward matmuls
    for index, (i, o) in enumerate(LAYERS):
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


def training_epoch(mnist: Path, epochs: int = 1, fused: bool = config.TRAINING.fused_adam) -> dict:
    """Time the graded training run's epoch in this process: the solution's VAE, the sandbox's settings
    (one thread, batch size, Adam) and vae_utils' loader. Splits the time into loading batches, the
    forward pass (the submission's elbo), the backward pass and the optimizer step. ``fused`` chooses
    ``Adam(fused=True)`` (the sandbox's, ``config.TRAINING.fused_adam``) or plain Adam, for comparison."""
    import torch

    sys.path.insert(0, str(KIT / "autograder" / "sandbox"))
    import probes
    import vae_utils

    t = config.TRAINING
    torch.set_num_threads(config.LIMITS.threads)
    vae_class = probes.load(load_submission(SOLUTION).source, "solution")
    loader, _ = vae_utils.mnist_loaders(t.batch_size, root=mnist, download=False,
                                        generator=torch.Generator().manual_seed(t.seed))
    torch.manual_seed(t.seed)
    vae = vae_class(784, t.latent_dim, t.hidden_dim)
    optimizer = torch.optim.Adam(vae.parameters(), lr=t.learning_rate, **({"fused": True} if fused else {}))
    parts = {"batches": 0.0, "forward": 0.0, "backward": 0.0, "step": 0.0}
    epoch_seconds, walls, samples = [], [], 0
    for _ in range(epochs):
        wall = time.perf_counter()
        start = CLOCK()
        mark = start
        for x, _ in loader:
            x = x.view(x.shape[0], 784)
            now = CLOCK()
            parts["batches"] += now - mark
            optimizer.zero_grad()
            loss = -vae.elbo(x).mean()
            mark = CLOCK()
            parts["forward"] += mark - now
            loss.backward()
            now = CLOCK()
            parts["backward"] += now - mark
            optimizer.step()
            mark = CLOCK()
            parts["step"] += mark - now
            samples += x.shape[0]
        epoch_seconds.append(CLOCK() - start)
        walls.append(time.perf_counter() - wall)
    return {"epoch": min(epoch_seconds), "wall": min(walls), "samples_per_epoch": samples // epochs,
            "parts": {k: v / epochs for k, v in parts.items()}}


# ---------------------------------------------------------------------------------------------
# 4. Throughput of make grade


def throughput(mnist: Path, copies: int, jobs: int) -> dict:
    """Grade ``copies`` copies of the solution with ``grade-many --jobs``; submissions per minute."""
    with tempfile.TemporaryDirectory(prefix="vae-kit-bench-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for index in range(copies):
            shutil.copy(SOLUTION, folder / f"copy{index:03d}.ipynb")
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


def main(argv=None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=50, help="submissions graded for the throughput")
    parser.add_argument("--jobs", type=int, default=2, help="grade-many --jobs for the throughput")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)
    mnist = harness.mnist_root()
    import torch

    print(f"vae-kit benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start; Python {platform.python_version()}, "
          f"torch {torch.__version__}; kit {package.version()}\n", flush=True)

    one = grade_one(mnist)
    results = one["results"]
    assert results["score"] == results.get("max_score"), f"the solution did not get full marks: {results}"
    imports = torch_import_cost()
    rate = matmul_rate()
    train = training_epoch(mnist)
    other = training_epoch(mnist, fused=not config.TRAINING.fused_adam)
    epoch_flops = flops_per_sample() * train["samples_per_epoch"]
    bound = epoch_flops / rate["rate"]
    fraction = bound / train["epoch"]
    many = None if args.skip_throughput else throughput(mnist, args.copies, args.jobs)

    rows = [["measure", "value", "target", ""],
            ["grade one submission (solution): wall", f"{one['wall']:.1f} s", "", ""],
            ["grade one submission: CPU, all processes", f"{one['cpu']:.1f} s", f"<= {TARGET_CPU_S:.0f} s",
             verdict(one["cpu"] <= TARGET_CPU_S)],
            ["  wall at Gradescope's 0.5 vCPU (CPU / 0.5), est.", f"{one['cpu'] / GRADESCOPE_VCPU:.0f} s",
             f"< {GRADESCOPE_TIMEOUT_S:.0f} s timeout", verdict(one["cpu"] / GRADESCOPE_VCPU < GRADESCOPE_TIMEOUT_S)],
            ["peak memory, all processes (summed PSS)", f"{one['peak_pss_mb']:.0f} MB", f"<= {TARGET_MB:.0f} MB",
             verdict(one["peak_pss_mb"] <= TARGET_MB)],
            ["  summed RSS (counts shared pages twice)", f"{one['peak_rss_mb']:.0f} MB", "", ""],
            ["  largest single process, peak RSS", f"{one['max_process_rss_mb']:.0f} MB", "", ""],
            ["training: CPU seconds per epoch (1 thread)", f"{train['epoch']:.2f} s", f"wall {train['wall']:.2f} s", ""],
            ["  arithmetic bound (FLOPs / matmul rate)", f"{bound:.2f} s",
             f"{epoch_flops / 1e9:.0f} GFLOP / {rate['rate'] / 1e9:.1f} GFLOP/s", ""],
            ["  speed as a fraction of the bound", f"{fraction:.2f}", f">= {TARGET_BOUND_FRACTION}",
             verdict(fraction >= TARGET_BOUND_FRACTION)],
            [f"  the same with Adam(fused={not config.TRAINING.fused_adam}), not the sandbox's",
             f"{bound / other['epoch']:.2f}", f"{other['epoch']:.2f} s per epoch", ""]]
    if many:
        rows += [[f"make grade: {many['graded']} copies, --jobs {args.jobs}", f"{many['per_minute']:.1f} / min",
                  "", f"{many['full_marks']}/{many['graded']} full marks"],
                 ["  wall / CPU of the whole batch", f"{many['wall']:.0f} s / {many['cpu']:.0f} s",
                  f"{many['cpu'] / many['graded']:.1f} CPU-s each", ""]]
    print(table(rows))

    print("\nWhere the time of one submission goes (processes seen by the 50 ms sampler):")
    procs = sorted(one["processes"].values(), key=lambda p: p["first"])
    detail = [["process", "start", "alive", "CPU", "peak PSS"]]
    for p in procs:
        if p["what"].startswith(("probe", "trusted")):
            detail.append([p["what"], f"{p['first']:.1f} s", f"{p['last'] - p['first']:.1f} s", f"{p['cpu']:.1f} s",
                           f"{p['peak_pss_kb'] / 1024:.0f} MB"])
    print(table(detail))
    probes_ = [p for p in procs if p["what"].startswith("probe")]
    children_cpu = sum(p["cpu"] for p in probes_)
    training = [p for p in probes_ if p["what"] == "probe training"]
    others = [p for p in probes_ if p["what"] != "probe training"]
    print(f"\n{len(probes_)} sandbox children: {children_cpu:.1f} CPU-s of the {one['cpu']:.1f}; the trusted "
          f"process and run_autograder the rest ({one['cpu'] - children_cpu:.1f} s).")
    print(f"Importing torch in a fresh interpreter: {imports['wall']:.2f} s wall, {imports['cpu']:.2f} CPU-s; "
          f"x {len(probes_)} children = {imports['cpu'] * len(probes_):.1f} CPU-s "
          f"({imports['cpu'] * len(probes_) / one['cpu']:.0%} of the submission's CPU).")
    if training:
        print(f"The training child: {training[0]['cpu']:.1f} CPU-s, of which one epoch ~{train['epoch']:.1f} s; "
              f"the {len(others)} other probes: {sum(p['cpu'] for p in others):.1f} CPU-s.")
    parts = train["parts"]
    print("One training epoch, CPU-s split: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
          + f" ({train['samples_per_epoch']} images, {flops_per_sample() / 1e6:.2f} MFLOP each, "
          f"matmul rate at these shapes {rate['rate'] / 1e9:.1f} GFLOP/s, at 1024^3 {rate['square_rate'] / 1e9:.1f}).")
    print(f"The optimizer step takes {parts['step']:.2f} s per epoch with the sandbox's "
          f"Adam(fused={config.TRAINING.fused_adam}), {other['parts']['step']:.2f} s with the other.")
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.2f} (other work on this machine slows the wall times).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
