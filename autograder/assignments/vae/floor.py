"""Part 1's floor (``scripts/floor.py``): the graded training run as the training probe sets it up, and the test-set
ELBO of the trained model. Plain code on the trusted side, no sandbox: ``scripts/floor.py`` gives it the
submission's module and this assignment's ``probes.py``.
"""
#: The (in, out) shapes of the matmuls of the graded model, 784-400-(32,32)-400-784 (linear1, 21, 22, 3, 4): the
#: arithmetic bound of ``scripts/bench.py``'s training speed, which it measures for an assignment that declares them.
LAYERS = ((784, 400), (400, 32), (400, 32), (32, 400), (400, 784))


def setup(module, probes, params: dict) -> tuple:
    """The graded run: the submission's VAE at the grader's starting weights, the iterator of the training probe's
    batches, and the minibatch loss (the negative ELBO); returns (model, batches, loss_of)."""
    import torch

    import vae_utils

    images, _ = vae_utils.load_mnist(train=True, root=params["root"], download=False)
    torch.manual_seed(params["seed"])
    initial = probes.grader_start(784, params["hidden_dim"], params["latent_dim"])
    generator = torch.Generator().manual_seed(params["seed"])
    model = module.VAE(784, params["latent_dim"], params["hidden_dim"])
    for layer, start in initial.items():
        getattr(model, layer).load_state_dict(start.state_dict())
    return model, probes.training_batches(images, params, generator), lambda x: -model.elbo(x).mean()


def score_test_set(model, root) -> tuple:
    """The test-set ELBO of the trained ``model`` (mean nats per image, one sample each, in chunks of 1000) on the
    10000 test images; returns (ELBO, images scored)."""
    import torch

    import vae_utils

    images, _ = vae_utils.load_mnist(train=False, root=root, download=False)
    with torch.no_grad():
        x = images.float().div(255).view(len(images), 784)
        return sum(float(model.elbo(b).sum()) for b in x.split(1000)) / len(x), len(x)
