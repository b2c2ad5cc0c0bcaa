"""The floor of grading one submission: only the work that grading cannot avoid, as a plain script.

``python scripts/floor.py [SUBMISSION]`` imports torch, reads MNIST, runs the graded training epoch with the
settings of Part 1's ``TRAINING`` (``autograder/assignments/vae/spec.py``) (the submission's own ``elbo`` driving Adam, one thread as in the
sandbox, the same loader and seed) and computes the test-set ELBO of the trained weights (one sample per
image, in nats), then prints it. No sandbox, no checks, no other test. ``make bench`` runs it beside the
grading of the same submission, so that grading's cost is read as a multiple of this floor.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))


def train_and_score(source: str, mnist: Path) -> float:
    """Train ``VAE`` of ``source`` for the graded run and return the mean test-set ELBO in nats."""
    import torch

    import vae_utils
    from autograder import config
    from autograder.assignments.vae import spec

    t = spec.TRAINING
    torch.set_num_threads(config.LIMITS.threads)
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "device": torch.device("cpu")}
    exec(compile(source, "submission", "exec"), namespace)
    torch.manual_seed(t.seed)
    generator = torch.Generator().manual_seed(t.seed)
    train, _ = vae_utils.load_mnist(train=True, root=mnist, download=False)
    vae = namespace["VAE"](784, t.latent_dim, t.hidden_dim)
    optimizer = torch.optim.Adam(vae.parameters(), lr=t.learning_rate, fused=t.fused_adam)
    for _ in range(t.epochs):
        for index in torch.randperm(len(train), generator=generator).split(t.batch_size):
            optimizer.zero_grad()
            (-vae.elbo(train[index].float().div_(255).view(len(index), 784)).mean()).backward()
            optimizer.step()
    images, _ = vae_utils.load_mnist(train=False, root=mnist, download=False)
    with torch.no_grad():  # in chunks of 1000 images, as the grader scores them
        total = sum(float(vae.elbo(x.view(len(x), 784).float() / 255).sum()) for x in images.split(1000))
    return total / len(images)


def main(argv=None) -> int:
    """Print the test-set ELBO after the graded run, as the floor's only output."""
    from autograder.config import mnist_root
    from autograder.submission import load_submission

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submission", nargs="?", default=str(KIT / "solution" / "vae.ipynb"))
    args = parser.parse_args(argv)
    from autograder.assignment import load

    source = load_submission(args.submission, load("vae")).source
    print(f"test-set ELBO {train_and_score(source, mnist_root()):.2f} nats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
