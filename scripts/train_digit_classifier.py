"""Train the kit's digit classifier on MNIST, print how it measures, and keep it next to the data.

    python scripts/train_digit_classifier.py                      # the default kind, written where graders read it
    python scripts/train_digit_classifier.py --kind cnn mlp logreg  # compare candidates (each file is written)

For each kind: test accuracy (10,000 MNIST test images), CPU seconds to train and to predict the 10,000 test
images (numpy, as graders predict), the file's size and where it was written
(``$MNIST_ROOT/MNIST/classifier/digits-<kind>.npz``). Training runs on one torch thread unless ``--threads``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digit_classifier  # noqa: E402


def cpu_seconds(function, *args, **kwargs):
    """``function(*args, **kwargs)`` and the CPU seconds of this process (all threads) it took."""
    start = time.process_time()
    return function(*args, **kwargs), time.process_time() - start


def measure(kind: str, root, seed: int, out=None) -> dict:
    """Train, time, save (to ``out``, default next to the data) and reload the classifier of ``kind``; returns
    its row of the table."""
    classifier, train_cpu = cpu_seconds(digit_classifier.train, root, kind, seed)
    path = digit_classifier.save(classifier, path=out, root=root)
    loaded = digit_classifier.load(path)
    images, labels = digit_classifier.mnist_float(False, root)
    predicted, predict_cpu = cpu_seconds(loaded.predict, images)
    return {"kind": kind, "accuracy": float((predicted == labels).mean()), "train_cpu": train_cpu,
            "predict_cpu": predict_cpu, "size_kb": path.stat().st_size / 1024, "path": path}


def print_table(rows: list[dict]) -> None:
    print("| kind | test accuracy | train CPU-s | predict CPU-s (10,000 images) | file size |")
    print("|---|---|---|---|---|")
    for row in rows:
        default = " (default)" if row["kind"] == digit_classifier.DEFAULT_KIND else ""
        print(f"| {row['kind']}{default} | {row['accuracy']:.2%} | {row['train_cpu']:.1f} | "
              f"{row['predict_cpu']:.2f} | {row['size_kb']:.0f} KB |")
    for row in rows:
        print(f"wrote {row['path']}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", nargs="+", choices=digit_classifier.KINDS, default=[digit_classifier.DEFAULT_KIND],
                        help="kinds to train and compare (default: %(default)s)")
    parser.add_argument("--root", default=None, help="folder holding MNIST/ (default: $MNIST_ROOT, else ./data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--out", help="file to write (one --kind only; default: next to the data)")
    args = parser.parse_args(argv)
    if args.out and len(args.kind) > 1:
        parser.error("--out takes one --kind")
    if "cnn" in args.kind:
        import torch

        torch.set_num_threads(args.threads)
    print_table([measure(kind, args.root, args.seed, args.out) for kind in args.kind])


if __name__ == "__main__":
    main()
