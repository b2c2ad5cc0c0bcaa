"""Part 3's floor (``scripts/floor.py``): the graded training run as the training probe sets it up, the test-set
ELBO of the trained model, and the images it generates for the digit classifier. Plain code on the trusted side,
no sandbox: ``scripts/floor.py`` gives it the submission's module (registered as ``reference`` too, which
``probes.grader_start`` builds its layers from) and this assignment's ``probes.py``.
"""
from .spec import CHECKS

#: Submissions a minute that ``make grade`` should grade on 2 cores (``scripts/bench.py``'s throughput; the kit's
#: default, 10, is for an assignment whose training takes a few seconds).
TARGET_PER_MINUTE = 5.0


def setup(module, probes, params: dict) -> tuple:
    """The graded run: the submission's ConditionalVAE at the grader's starting weights, the iterator of the
    training probe's (image, digit) batches, and the minibatch loss; returns (model, batches, loss_of)."""
    import torch

    import vae_utils

    images, labels = vae_utils.load_mnist(train=True, root=params["root"], download=False)
    initial = probes.grader_start(params["seed"], params.get("init", "he"))
    generator = torch.Generator().manual_seed(params["seed"])
    model = module.ConditionalVAE(2)
    for layer, start in initial.items():
        getattr(model, layer).load_state_dict(start.state_dict())
    return model, probes.training_batches(images, labels, params, generator), lambda b: model.loss(*b).mean()


def score_test_set(model, root) -> tuple:
    """The test-set ELBO of the trained ``model`` (mean nats per image, one sample each, in chunks of 500) on the
    first ``CHECKS.test_images`` test images, as the grader scores them; returns (ELBO, images scored)."""
    import torch

    import vae_utils

    images, labels = vae_utils.load_mnist(train=False, root=root, download=False)
    count = CHECKS.test_images
    with torch.no_grad():
        x, c = images[:count].float().div(255).unsqueeze(1), labels[:count]
        total = sum(float(-model.loss(xb, cb).sum()) for xb, cb in zip(x.split(500), c.split(500)))
        return total / count, count


def generated_images(model):
    """The images the grader has the digit classifier judge: ``CHECKS.per_digit`` of each digit."""
    import torch

    with torch.no_grad():
        digits = torch.arange(10).repeat_interleave(CHECKS.per_digit)
        return model.decoder(torch.randn(len(digits), 2), digits)
