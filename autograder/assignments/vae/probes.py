"""Part 1's probes (child side): each builds the submission's VAE with the grader's weights, calls one method,
and returns raw arrays. Nothing here decides a score; the trusted process does, from what a probe returns.

A probe is ``probe(VAE, case, arrays) -> (outputs, info)`` (see :mod:`autograder.sandbox.probing`); its outputs
are declared in ``spec.py``.
"""
import functools
import sys
import types

import numpy as np
import torch
from probing import DEVICE, start_from, student_init, train
from vae_check import VAE_LAYERS as LAYERS
from vae_check import method, tensor, to_array, vae_build, vae_elbo_run, vae_given_noise, vae_sample_run
from vae_check import vae_probe_decoder as probe_decoder  # noqa: F401 - the checks in the notebook run them too
from vae_check import vae_probe_encoder as probe_encoder  # noqa: F401
from vae_check import vae_probe_kl_divergence as probe_kl_divergence  # noqa: F401
from vae_check import vae_probe_sample_with_reparam as probe_sample_with_reparam  # noqa: F401

#: How the probes build the submission's VAE with the grader's weights (shared with the notebook's checks).
build = vae_build


def _reference():
    """The reference pieces, when the trusted process gave this probe any (see
    :func:`autograder.processes.runtime.reference_source`)."""
    return sys.modules["reference"]


def _patch_reference_pieces(vae, x, epsilon):
    """Replace all but ``elbo`` by the reference pieces; ``sample_with_reparam`` uses ``epsilon`` (see
    :func:`vae_check.vae_given_noise`). Returns the lists of calls that used ``epsilon`` and that drew fresh noise."""
    reference = _reference()
    with torch.no_grad():
        known = torch.cat(reference.encoder(vae, x), -1)
    sample_with_reparam, calls, fresh = vae_given_noise(known, epsilon, reference.reparameterize)
    vae.encoder = functools.partial(reference.encoder, vae)
    vae.decoder = functools.partial(reference.decoder, vae)
    vae.kl_divergence = reference.kl_divergence
    vae.sample_with_reparam = sample_with_reparam
    return calls, fresh


def probe_elbo(vae_class, case, arrays):
    """The ELBO with reference pieces around it, its gradients, and ``repeats`` extra draws on x[:2].

    The reference gradients are not computed here, where student code runs, but by ``elbo_reference``.
    """
    vae = build(vae_class, case, arrays)
    x, epsilon = tensor(arrays["x"]), tensor(arrays["eps"])
    calls, fresh = _patch_reference_pieces(vae, x, epsilon)
    return vae_elbo_run(vae, x, calls, fresh, case["params"].get("repeats", 0))


def probe_elbo_reference(_, case, arrays):
    """The reference ELBO's gradients w.r.t. the five weights for the case's x and eps; runs no student code."""
    reference = _reference()
    vae = types.SimpleNamespace()
    for layer in LAYERS:
        weight = tensor(arrays[f"w/{layer}.weight"])
        module = torch.nn.Linear(weight.shape[1], weight.shape[0]).to(DEVICE)
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.copy_(tensor(arrays[f"w/{layer}.bias"]))
        setattr(vae, layer, module)
    params = [getattr(vae, layer).weight for layer in LAYERS]
    grads = torch.autograd.grad(reference.elbo(vae, tensor(arrays["x"]), tensor(arrays["eps"])).sum(), params)
    return {f"reference_grad/{layer}": to_array(grad, "", "") for layer, grad in zip(LAYERS, grads)}, {}


def probe_sample(vae_class, case, arrays):
    """``sample(n)`` with the reference decoder and sample_with_reparam (fresh noise), its input z and output
    logits recorded by hooks on the decoder's layers (see :func:`vae_check.vae_sample_run`)."""
    reference = _reference()
    vae = build(vae_class, case, arrays)
    vae.decoder = functools.partial(reference.decoder, vae)
    vae.sample_with_reparam = lambda mu, logsigma: reference.reparameterize(mu, logsigma, torch.randn_like(mu))
    return vae_sample_run(vae, case["params"]["num_samples"])


def training_batches(images, params, generator):
    """The graded run's training batches: float32 tensors of shape (batch, 784), values in [0, 1].

    ``images`` is the training set as uint8 of shape (60000, 28, 28). The order is what
    ``vae_utils.mnist_loaders(batch_size, generator=generator)`` gives (one ``torch.randperm`` of the training
    set per epoch), without a DataLoader.
    """
    for _ in range(params["epochs"]):
        for index in torch.randperm(len(images), generator=generator).split(params["batch_size"]):
            yield images[index].float().div_(255).view(len(index), 784).to(DEVICE)


def probe_training(vae_class, case, arrays):
    """Train ``VAE(784, latent, hidden)`` with the submission's ``elbo`` and return the trained weights.

    ``info`` holds the steps taken, the step whose loss was not finite (training stops there) and the CPU
    seconds of the training loop on this thread.
    """
    import vae_utils

    params = case["params"]
    images, _ = vae_utils.load_mnist(train=True, root=params.get("root"), download=False)
    torch.manual_seed(params["seed"])
    initial = grader_start(784, params["hidden_dim"], params["latent_dim"])
    generator = torch.Generator().manual_seed(params["seed"])
    vae = student_init("VAE.__init__", vae_class, 784, params["latent_dim"], params["hidden_dim"])
    modules, unfit = start_from(vae, initial)
    if unfit:
        return {"losses": np.zeros(0)}, {"unfit": unfit, "types": {n: type(getattr(vae, n, None)).__name__
                                                                   for n in unfit}}
    vae = vae.to(DEVICE)
    elbo = method(vae, "elbo")
    losses, info = train(vae, training_batches(images, params, generator), lambda x: -elbo(x).mean(), "elbo", params,
                         watch=modules)
    outputs = {"losses": losses}
    for layer, module in modules.items():
        outputs[f"w/{layer}.weight"] = to_array(module.weight, "", "")
        outputs[f"w/{layer}.bias"] = to_array(module.bias, "", "")
    return outputs, info


def grader_start(obs_dim, hidden_dim, latent_dim):
    """The grader's starting weights of the training run, by layer name: the notebook's five ``nn.Linear`` layers,
    created in the notebook's order (so that, from the same seed, they are the reference ``VAE``'s own)."""
    return {"linear1": torch.nn.Linear(obs_dim, hidden_dim), "linear21": torch.nn.Linear(hidden_dim, latent_dim),
            "linear22": torch.nn.Linear(hidden_dim, latent_dim), "linear3": torch.nn.Linear(latent_dim, hidden_dim),
            "linear4": torch.nn.Linear(hidden_dim, obs_dim)}
