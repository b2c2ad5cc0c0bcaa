"""Measure what Part 3's models cost to train here, and what a training run would cost on Gradescope.

For the MLP VAE, the ConvVAE and the CVAE (the classes of ``solution/cvae.ipynb``), on one thread and minibatches
of 128 images: the seconds per 1000 images of forward + backward, of a whole training step (forward, backward
and Adam's update) and of a forward pass alone (what evaluating the test-set ELBO costs), and the peak resident
memory. From these it prints the seconds that training on N images (plus the ELBO of the 10,000 test images)
would take on Gradescope's default container, 0.5 vCPU: this machine's one-thread seconds / 0.5, which assumes
one of its cores is as fast as one of Gradescope's.

Each model is measured in a fresh process, so that its peak memory is its own: the Python process with torch
imported, the model, Adam's state and one minibatch's activations and gradients (no MNIST: the inputs are random,
which costs the same arithmetic; the MNIST arrays a training run holds are printed apart).

Usage: ``python autograder/assignments/cvae/tools/measure_conv_cost.py [--images 10000 30000 60000] [--repeats 5]
[--batches 10]``.
"""
import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

SOLUTION = Path(__file__).resolve().parents[4] / "solution" / "cvae.ipynb"  # the kit's
#: The models measured: (label, class in the notebook).
MODELS = (("MLP VAE", "MLPVAE"), ("ConvVAE", "ConvVAE"), ("CVAE", "ConditionalVAE"))
BATCH = 128
TEST_IMAGES = 10_000
GRADESCOPE_CPUS = 0.5


def notebook_classes(path=SOLUTION) -> dict:
    """The names the notebook's class cells define (MLPVAE, ConvVAE, ConditionalVAE), by running those cells."""
    import nbformat
    import torch

    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith("class "):
            exec(compile(cell.source, f"{path.name}: class cell", "exec"), namespace)
    return namespace


def seconds_per_1000(work, repeats: int, batches: int) -> float:
    """The median over ``repeats`` of the seconds per 1000 images that ``batches`` calls of ``work()`` take (one
    minibatch of BATCH images each), after one warm-up call."""
    work()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            work()
        runs.append((time.perf_counter() - start) / (batches * BATCH) * 1000)
    return statistics.median(runs)


def measure(class_name: str, repeats: int, batches: int) -> dict:
    """One model's figures, measured in this process with one thread: seconds per 1000 images of forward +
    backward, of a training step and of a forward pass; resident memory (MB) after importing torch and at its peak."""
    import torch

    torch.set_num_threads(1)
    imported_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    torch.manual_seed(0)
    model = notebook_classes()[class_name]()
    x, c = torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    loss = (lambda: model.loss(x, c)) if class_name == "ConditionalVAE" else (lambda: model.loss(x))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def backward():
        opt.zero_grad()
        loss().mean().backward()

    def step():
        backward()
        opt.step()

    def forward():
        with torch.no_grad():
            loss()

    figures = {name: seconds_per_1000(work, repeats, batches)
               for name, work in (("fwd_bwd", backward), ("step", step), ("forward", forward))}
    return {**figures, "imported_mb": imported_mb, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def print_report(results: dict, images: list) -> None:
    """Print the measured table, then the estimated seconds on Gradescope for each number of training images."""
    print(f"{'model':<9}{'fwd+bwd s/1000':>16}{'step s/1000':>13}{'forward s/1000':>16}{'RSS torch MB':>14}"
          f"{'peak RSS MB':>13}")
    for label, r in results.items():
        print(f"{label:<9}{r['fwd_bwd']:>16.3f}{r['step']:>13.3f}{r['forward']:>16.3f}{r['imported_mb']:>14.0f}"
              f"{r['peak_mb']:>13.0f}")
    print(f"\nAt Gradescope's {GRADESCOPE_CPUS:g} vCPU (one-thread seconds here / {GRADESCOPE_CPUS:g}): seconds to train "
          f"on N images (training steps of {BATCH}), then to evaluate the ELBO of the {TEST_IMAGES:,} test images; "
          "MNIST's N training images as float32 beside them")
    print(f"{'N images':>10}" + "".join(f"{label + ' train':>16}" for label in results)
          + "".join(f"{label + ' +test':>15}" for label in results) + f"{'float32 MB':>12}")
    for n in images:
        train = [r["step"] * n / 1000 / GRADESCOPE_CPUS for r in results.values()]
        evaluate = [r["forward"] * TEST_IMAGES / 1000 / GRADESCOPE_CPUS for r in results.values()]
        print(f"{n:>10,}" + "".join(f"{s:>16.0f}" for s in train)
              + "".join(f"{s + e:>15.0f}" for s, e in zip(train, evaluate)) + f"{n * 784 * 4 / 2 ** 20:>12.0f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[10_000, 20_000, 30_000, 60_000, 120_000],
                        help="training-set sizes (images seen in training) to estimate Gradescope's time for")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure (the median is kept)")
    parser.add_argument("--batches", type=int, default=10, help="minibatches of 128 per repeat")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"  # inherited by each measuring process
    import torch

    print(f"{SOLUTION.name}'s models, torch {torch.__version__}, 1 thread, minibatches of {BATCH}, median of "
          f"{args.repeats} x {args.batches} minibatches; load average at start {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs\n")
    context = multiprocessing.get_context("spawn")
    results = {}
    for label, class_name in MODELS:
        with context.Pool(1) as pool:
            results[label] = pool.apply(measure, (class_name, args.repeats, args.batches))
    print_report(results, args.images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
