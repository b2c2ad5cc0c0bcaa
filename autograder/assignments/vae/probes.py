"""Part 1's probes (child side): each builds the submission's VAE with the grader's weights, calls one method,
and returns raw arrays. Nothing here decides a score; the trusted process does, from what a probe returns.

A probe is ``probe(VAE, case, arrays) -> (outputs, info)`` (see :mod:`autograder.sandbox.probing`); its outputs
are declared in ``spec.py``.
"""
import functools
import sys
import time
import types

import numpy as np
import torch
from probing import DEVICE, StudentError, call, method, pair, start_from, student_init, tensor, to_array, train

LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")


def build(vae_class, case, arrays):
    """``VAE(*dims)`` with the grader's weights copied into its five layers."""
    obs_dim, latent_dim, hidden_dim = case["dims"]
    vae = call("VAE.__init__", vae_class, obs_dim, latent_dim, hidden_dim)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError("VAE.__init__", "VAE must be an nn.Module")
    with torch.no_grad():
        for layer in LAYERS:
            module = getattr(vae, layer, None)
            weight = arrays[f"w/{layer}.weight"]
            if not isinstance(module, torch.nn.Linear) or tuple(module.weight.shape) != weight.shape:
                shape = f"nn.Linear({weight.shape[1]}, {weight.shape[0]})"
                raise StudentError("VAE.__init__", f"VAE{tuple(case['dims'])} should have layer {layer} = "
                                                   f"{shape}, as in the notebook; got {module!r}")
            module.weight.copy_(tensor(weight))
            module.bias.copy_(tensor(arrays[f"w/{layer}.bias"]))
    return vae.to(DEVICE)


def probe_encoder(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    return pair(call("encoder", method(vae, "encoder"), tensor(arrays["x"])), "encoder", ("mu", "logsigma")), {}


def probe_decoder(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    return {"theta": to_array(call("decoder", method(vae, "decoder"), tensor(arrays["z"])), "decoder", "theta")}, {}


def probe_kl_divergence(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    kl = call("kl_divergence", method(vae, "kl_divergence"), tensor(arrays["mu"]), tensor(arrays["logsigma"]))
    return {"kl": to_array(kl, "kl_divergence", "kl")}, {}


def probe_sample_with_reparam(vae_class, case, arrays):
    """Draw z for the given mu/logsigma ``repeats`` times; with ``grad``, also dz/dmu and dz/dlogsigma."""
    vae = build(vae_class, case, arrays)
    outputs, info = {}, {}
    mu = tensor(arrays["mu"]).requires_grad_(case["params"]["grad"])
    logsigma = tensor(arrays["logsigma"]).requires_grad_(case["params"]["grad"])
    for repeat in range(case["params"]["repeats"]):
        z = call("sample_with_reparam", method(vae, "sample_with_reparam"), mu, logsigma)
        outputs[f"z{repeat}"] = to_array(z, "sample_with_reparam", "z")
    if case["params"]["grad"]:
        grads = (None, None)
        if z.requires_grad:
            grads = call("sample_with_reparam (backward pass)",
                         lambda: torch.autograd.grad(z.sum(), [mu, logsigma], allow_unused=True))
        for name, grad in zip(("mu", "logsigma"), grads):
            info[f"grad_{name}"] = grad is not None
            outputs[f"grad_{name}"] = to_array(grad, "", "") if grad is not None else np.zeros(0)
    return outputs, info


def _reference():
    """The reference pieces, when the trusted process gave this probe any (see
    :func:`autograder.processes.runtime.reference_source`)."""
    return sys.modules["reference"]


def _patch_reference_pieces(vae, x, epsilon):
    """Replace all but ``elbo`` by the reference pieces; ``sample_with_reparam`` uses ``epsilon``.

    A call on the whole batch gets ``epsilon``; a call on some rows of it (an elbo that loops over data
    points) gets the rows of ``epsilon`` whose reference mu and logsigma it was given. Any other call
    draws fresh noise. Returns two lists that grow by one shape per call: calls that used ``epsilon``,
    and calls that drew fresh noise.
    """
    reference = _reference()
    calls, fresh = [], []
    with torch.no_grad():
        mu_x, logsigma_x = reference.encoder(vae, x)
        known = torch.cat([mu_x, logsigma_x], -1)

    def injected(mu, logsigma):
        if mu.shape == epsilon.shape:
            return epsilon
        if mu.dim() > 2 or mu.shape[-1:] != epsilon.shape[-1:] or logsigma.shape != mu.shape:
            return None
        with torch.no_grad():
            rows = torch.cat([mu, logsigma], -1).reshape(-1, known.shape[-1])
            distance = (rows[:, None, :] - known[None, :, :]).abs().amax(-1)
            best = distance.argmin(-1)
        # Rows recomputed from a sub-batch differ from the full batch's by float32 round-off (~1e-6).
        if rows.shape[0] > len(known) or bool((distance.gather(1, best[:, None]) > 1e-4).any()):
            return None
        return epsilon[best].reshape(mu.shape)

    def sample_with_reparam(mu, logsigma):
        noise = injected(mu, logsigma)
        (fresh if noise is None else calls).append(tuple(mu.shape))
        return reference.reparameterize(mu, logsigma, torch.randn_like(mu) if noise is None else noise)

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
    value = call("elbo", method(vae, "elbo"), x)
    outputs = {"elbo": to_array(value, "elbo", "elbo")}
    info = {"sample_calls": len(calls), "fresh_calls": len(fresh), "grads": {}}
    params = [getattr(vae, layer).weight for layer in LAYERS]
    grads = [None] * len(LAYERS)
    if value.requires_grad:
        grads = call("elbo (backward pass)", lambda: torch.autograd.grad(value.sum(), params, allow_unused=True))
    for layer, grad in zip(LAYERS, grads):
        info["grads"][layer] = grad is not None
        outputs[f"grad/{layer}"] = to_array(grad, "", "") if grad is not None else np.zeros(0)
    repeats = case["params"].get("repeats", 0)
    with torch.no_grad():
        draws = [to_array(call("elbo", method(vae, "elbo"), x[:2]), "elbo", "elbo") for _ in range(repeats)]
    if draws:
        outputs["repeats"] = np.stack(draws)
    return outputs, info


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
    logits recorded by hooks on the decoder's layers (over all calls, when it decodes a row at a time)."""
    reference = _reference()
    vae = build(vae_class, case, arrays)
    vae.decoder = functools.partial(reference.decoder, vae)
    vae.sample_with_reparam = lambda mu, logsigma: reference.reparameterize(mu, logsigma, torch.randn_like(mu))
    seen = {"z": [], "logits": []}
    vae.linear3.register_forward_pre_hook(lambda module, args: seen["z"].append(args[0].detach()))
    vae.linear4.register_forward_hook(lambda module, args, out: seen["logits"].append(out.detach()))
    num_samples = case["params"]["num_samples"]
    x = call("sample", method(vae, "sample"), num_samples)
    outputs = {"x": to_array(x, "sample", "x")}
    for name, values in seen.items():
        # The last call, or all calls in order when sample decodes a part of the batch at a time.
        if values and (len(values[-1]) == num_samples or values[-1].dim() != 2):
            outputs[name] = to_array(values[-1], "", "")
        elif values and all(v.dim() == 2 and v.shape[1:] == values[-1].shape[1:] for v in values):
            outputs[name] = to_array(torch.cat(values), "", "")
        elif values:
            outputs[name] = to_array(values[-1], "", "")
    return outputs, {"decoder_called": sorted(name for name, values in seen.items() if values)}


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
