"""Part 2's floor (``scripts/floor.py``): the graded training run as the training probe sets it up, the test-set
ELBO of the trained model, and the images it generates for the digit classifier. Plain code on the trusted side,
no sandbox: ``scripts/floor.py`` gives it the submission's module and this assignment's ``probes.py``.
"""
from .spec import QUALITY

#: Submissions a minute that ``make grade`` should grade on 2 cores (``scripts/bench.py``'s throughput; the kit's
#: default, 10, is for an assignment whose training takes a few seconds).
TARGET_PER_MINUTE = 5.0


def setup(module, probes, params: dict) -> tuple:
    """The graded run: the submission's VAE2D at the grader's starting weights, the iterator of the training probe's
    batches, and the minibatch loss (beta 1); returns (model, batches, loss_of)."""
    import torch

    import vae_utils

    images, _ = vae_utils.load_mnist(train=True, root=params["root"], download=False)
    torch.manual_seed(params["seed"])
    initial = probes.grader_start(784, params["hidden_dim"], 2)
    generator = torch.Generator().manual_seed(params["seed"])
    model = module.VAE2D(784, params["hidden_dim"], 2)
    for layer, start in initial.items():
        getattr(model, layer).load_state_dict(start.state_dict())
    return model, probes.training_batches(images, params, generator), lambda x: model.loss(x, 1.0).mean()


def score_test_set(model, root) -> tuple:
    """The test-set ELBO of the trained ``model`` (minus its loss at beta 1: mean nats per image, one sample each, in
    chunks of 1000) on the 10000 test images; returns (ELBO, images scored)."""
    import torch

    import vae_utils

    images, _ = vae_utils.load_mnist(train=False, root=root, download=False)
    with torch.no_grad():
        x = images.float().div(255).view(len(images), 784)
        return sum(float(-model.loss(b, 1.0).sum()) for b in x.split(1000)) / len(x), len(x)


def generated_images(model):
    """The images the grader has the digit classifier judge: ``QUALITY.samples`` decoded from z ~ N(0, I)."""
    import torch

    with torch.no_grad():
        return model.decoder(torch.randn(QUALITY.samples, 2))
