"""Part 2's probes (child side): each builds the submission's VAE2D with the grader's weights, surrounds the method
under test with the reference's other methods, calls it, and returns raw arrays.

A probe is ``probe(VAE2D, case, arrays) -> (outputs, info)`` (see :mod:`autograder.sandbox.probing`); its outputs
are declared in ``spec.py``. The probes named ``expected_<probe>`` run no student code: they run ``<probe>`` on the
reference class (module ``reference``, generated from the solution notebook) with the same case, and return its
outputs under ``expected/``, the values the graders compare with.
"""
import sys
import types

import numpy as np
import torch
from probing import (DEVICE, StudentError, call, expected, method, pair, start_from, student_init, tensor,
                     to_array, train)

LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")
#: The methods the reference provides around the method under test (those it was given, see spec.py).
PIECES = ("encoder", "reparameterize", "decoder", "loss", "reconstruct")


def _reference_class(case=None):
    """The reference's VAE2D (the module ``reference``; ``case`` is unused: Part 2 has one class)."""
    return sys.modules["reference"].VAE2D


def build(vae_class, case, arrays):
    """``VAE2D(obs_dim, hidden_dim, latent_dim)`` with the grader's weights copied into its five layers."""
    obs_dim, hidden_dim, latent_dim = case["dims"]
    vae = call("VAE2D.__init__", vae_class, obs_dim, hidden_dim, latent_dim)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError("VAE2D.__init__", "VAE2D must be an nn.Module")
    with torch.no_grad():
        for layer in LAYERS:
            module, weight = getattr(vae, layer, None), arrays[f"w/{layer}.weight"]
            if not isinstance(module, torch.nn.Linear) or tuple(module.weight.shape) != weight.shape:
                raise StudentError("VAE2D.__init__", f"VAE2D{tuple(case['dims'])} should have layer {layer} = "
                                                     f"nn.Linear({weight.shape[1]}, {weight.shape[0]}), as in the "
                                                     f"notebook; got {module!r}")
            module.weight.copy_(tensor(weight))
            module.bias.copy_(tensor(arrays[f"w/{layer}.bias"]))
    return vae.to(DEVICE)


def surround(vae, keep, noise_seed=None, batch=None):
    """Replace every method of :data:`PIECES` the reference module has, but ``keep``, by the reference's (bound to
    ``vae``). With ``noise_seed``, ``reparameterize`` is the reference's own, drawing its noise from ``noise_seed``
    when called on the whole batch (``batch`` rows), so the student's child and the expected child use the same
    noise; other calls draw fresh noise. Returns the list of its calls (True: the seeded noise was used).

    This module is loaded by students' children too, so it holds no formula of a graded method: without the
    reference's reparameterize (a reparameterize child has none), asking for noise raises LookupError.
    """
    reference, calls = sys.modules.get("reference"), []
    for name in PIECES:
        if name != keep and reference is not None and hasattr(reference.VAE2D, name):
            setattr(vae, name, types.MethodType(getattr(reference.VAE2D, name), vae))
    if noise_seed is not None:
        if reference is None or not hasattr(reference.VAE2D, "reparameterize"):
            raise LookupError("no reference reparameterize in this child")
        draw = types.MethodType(reference.VAE2D.reparameterize, vae)

        def reparameterize(mu, logvar):
            calls.append(len(mu) == batch and mu.dim() == 2)
            if not calls[-1]:
                return draw(mu, logvar)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(noise_seed)
                return draw(mu, logvar)

        vae.reparameterize = reparameterize
    return calls


#: The notebook's model sizes (obs_dim, latent_dim); other sizes are the grader's odd models.
NOTEBOOK_SIZES = (784, 2)


def where(name: str, case, inputs: str, returns: str) -> str:
    """What an error of method ``name`` is charged to: the method, and on a model of another size than the
    notebook's, that model (its dims), the inputs it was given and what it should return, so that the student
    sees a hard-coded size for what it is."""
    obs, _, latent = case["dims"]
    if (obs, latent) == NOTEBOOK_SIZES:
        return name
    return (f"{name} (on the grader's VAE2D{tuple(case['dims'])}, a model of another size than the notebook's: "
            f"obs_dim, hidden_dim, latent_dim = {', '.join(map(str, case['dims']))}; called with {inputs}, it "
            f"should return {returns})")


def probe_encoder(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    surround(vae, "encoder")
    x = tensor(arrays["x"])
    latent = case["dims"][2]
    at = where("encoder", case, f"x of shape {tuple(x.shape)}", f"mu and logvar of shape ({len(x)}, {latent})")
    return pair(call(at, method(vae, "encoder"), x), "encoder", ("mu", "logvar")), {}


def probe_decoder(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    surround(vae, "decoder")
    z = tensor(arrays["z"])
    at = where("decoder", case, f"z of shape {tuple(z.shape)}", f"theta of shape ({len(z)}, {case['dims'][0]})")
    return {"theta": to_array(call(at, method(vae, "decoder"), z), "decoder", "theta")}, {}


def probe_reparameterize(vae_class, case, arrays):
    """Draw z for the given mu/logvar ``repeats`` times; with ``grad``, also dz/dmu and dz/dlogvar."""
    vae = build(vae_class, case, arrays)
    surround(vae, "reparameterize")
    params, outputs, info = case["params"], {}, {}
    mu = tensor(arrays["mu"]).requires_grad_(params["grad"])
    logvar = tensor(arrays["logvar"]).requires_grad_(params["grad"])
    for repeat in range(params["repeats"]):
        z = call("reparameterize", method(vae, "reparameterize"), mu, logvar)
        outputs[f"z{repeat}"] = to_array(z, "reparameterize", "z")
    if params["grad"]:
        grads = (None, None)
        if z.requires_grad:
            grads = call("reparameterize (backward pass)",
                         lambda: torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True))
        for name, grad in zip(("mu", "logvar"), grads):
            info[f"grad_{name}"] = grad is not None
            if grad is not None:
                outputs[f"grad_{name}"] = to_array(grad, "", "")
    return outputs, info


def probe_loss(vae_class, case, arrays):
    """loss(x, beta) with the reference pieces around it (the reference reparameterize draws the case's seeded
    noise), its gradients w.r.t. the five weights, loss(x, beta + 1) with the same noise ("loss_more": the two
    tell the reconstruction term and the KL apart), and ``repeats`` more calls with fresh noise (compared on average
    with the reference's, for a loss that draws its own)."""
    vae = build(vae_class, case, arrays)
    x, beta = tensor(arrays["x"]), float(case["params"]["beta"])
    calls = surround(vae, "loss", case["params"]["noise_seed"], len(x))
    value = call("loss", method(vae, "loss"), x, beta)
    outputs = {"loss": to_array(value, "loss", "loss")}
    info = {"noise_calls": sum(calls), "fresh_calls": len(calls) - sum(calls), "grads": {}}
    weights = [getattr(vae, layer).weight for layer in LAYERS]
    grads = [None] * len(LAYERS)
    if isinstance(value, torch.Tensor) and value.requires_grad:
        grads = call("loss (backward pass)", lambda: torch.autograd.grad(value.sum(), weights, allow_unused=True))
    for layer, grad in zip(LAYERS, grads):
        info["grads"][layer] = grad is not None
        if grad is not None:
            outputs[f"grad/{layer}"] = to_array(grad, "", "")
    with torch.no_grad():  # the same noise at beta + 1: the difference is the KL term, what is left the other
        outputs["loss_more"] = to_array(call("loss", method(vae, "loss"), x, beta + 1.0), "loss", "loss")
    surround(vae, "loss")  # the repeats draw fresh noise, the reference's: their mean is the expected loss's
    draws = _repeats(vae, x, beta, case["params"].get("repeats", 0))
    if draws:
        outputs["repeats"], outputs["repeats_more"] = (np.stack(d) for d in zip(*draws))
    return outputs, info


def _repeats(vae, x, beta, count):
    """``count`` pairs (loss(x, beta), loss(x, beta + 1)), each pair with the same noise: the global generator is
    seeded with the same seed before both calls, so that a loss drawing its own noise with it draws the same z
    twice and the difference of the pair is its KL term. The seeds come from the case's seed alone (the child's
    initial seed), so the expected child's call k draws its noise from the same seed as the student's call k."""
    generator = torch.Generator().manual_seed(torch.initial_seed())
    seeds, draws = torch.randint(0, 2**62, (count,), generator=generator).tolist(), []
    with torch.no_grad():
        for seed in seeds:
            pair_ = []
            for at in (beta, beta + 1.0):
                torch.manual_seed(seed)
                pair_.append(to_array(call("loss", method(vae, "loss"), x, at), "loss", "loss"))
            draws.append(pair_)
    return draws


def probe_reconstruct(vae_class, case, arrays):
    """reconstruct(x), twice (a reconstruction through a sample differs between calls)."""
    vae = build(vae_class, case, arrays)
    surround(vae, "reconstruct")
    x = tensor(arrays["x"])
    at = where("reconstruct", case, f"x of shape {tuple(x.shape)}", f"theta of shape {tuple(x.shape)}")
    first = to_array(call(at, method(vae, "reconstruct"), x), "reconstruct", "theta")
    second = to_array(call(at, method(vae, "reconstruct"), x), "reconstruct", "theta")
    return {"theta": first, "again": second}, {}


def probe_latent_grid(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    surround(vae, "latent_grid")
    p = case["params"]
    at = where("latent_grid", case, f"n = {p['n']}", f"images of shape ({p['n'] ** 2}, {case['dims'][0]})")
    images = call(at, method(vae, "latent_grid"), p["n"], p["z_min"], p["z_max"])
    return {"images": to_array(images, "latent_grid", "images")}, {}


def probe_interpolate(vae_class, case, arrays):
    vae = build(vae_class, case, arrays)
    surround(vae, "interpolate")
    steps = case["params"]["steps"]
    at = where("interpolate", case, f"x_a and x_b of shape {arrays['x_a'].shape}, steps = {steps}",
               f"a row of shape ({steps + 2}, {case['dims'][0]})")
    row = call(at, method(vae, "interpolate"), tensor(arrays["x_a"]), tensor(arrays["x_b"]), steps)
    return {"row": to_array(row, "interpolate", "row")}, {}


def probe_pick_pairs(vae_class, case, arrays):
    """``VAE2D.pick_pairs(labels, same, seed)`` called on the class, twice with the same seed."""
    p, labels = case["params"], torch.as_tensor(arrays["labels"])
    picks = [call("pick_pairs", method(vae_class, "pick_pairs"), labels.clone(), p["same"], p["seed"])
             for _ in range(2)]
    return {"pairs": to_array(picks[0], "pick_pairs", "pairs"), "again": to_array(picks[1], "pick_pairs", "pairs")}, {}


def _loss_terms(case, arrays):
    """The reference's reconstruction term and KL for the case (with its noise), its encoder's output, and its
    decoder's output theta at the z the loss decodes.

    Both terms come from the reference's own loss, at beta 0 and 1: this module is loaded by students' children
    too, so it holds no formula of a graded method, and their reference holds no loss (tests/hostile/vae2d/
    call_probe_helpers.py).
    """
    vae = build(_reference_class(), case, arrays)
    x = tensor(arrays["x"])
    surround(vae, "loss", case["params"]["noise_seed"], len(x))
    with torch.no_grad():
        mu, logvar = vae.encoder(x)
        reconstruction = vae.loss(x, 0.0)
        kl = vae.loss(x, 1.0) - reconstruction
        theta = vae.decoder(vae.reparameterize(mu, logvar))  # at the z the loss decodes (the seeded noise)
    return {name: to_array(v, "", "") for name, v in
            (("reconstruction", reconstruction), ("kl", kl), ("mu", mu), ("logvar", logvar), ("theta", theta))}


def _interpolation_alternatives(case, arrays):
    """What two known mistakes decode: t = linspace(0, 1, steps) (the endpoints' codes included; steps >= 2), and
    the decoded endpoints (mu(x_a), mu(x_b)) in place of the images themselves.

    The inner points of linspace(0, 1, steps) are those of the reference's own interpolate with steps - 2: this
    module is loaded by students' children too, so it holds no formula of a graded method, and their reference
    holds no interpolate (tests/hostile/vae2d/call_probe_helpers.py).
    """
    vae = build(_reference_class(), case, arrays)
    steps, x_a, x_b = case["params"]["steps"], tensor(arrays["x_a"]), tensor(arrays["x_b"])
    with torch.no_grad():
        ends = vae.decoder(vae.encoder(torch.stack([x_a, x_b]))[0])
        inner = vae.interpolate(x_a, x_b, steps - 2)[1:-1]
        return {"linspace": to_array(torch.cat([ends[:1], inner, ends[1:]]), "", ""), "ends": to_array(ends, "", "")}


probe_expected_encoder = expected(probe_encoder, _reference_class)
probe_expected_decoder = expected(probe_decoder, _reference_class)
probe_expected_loss = expected(probe_loss, _reference_class, _loss_terms)
probe_expected_reconstruct = expected(probe_reconstruct, _reference_class)
probe_expected_latent_grid = expected(probe_latent_grid, _reference_class)
probe_expected_interpolate = expected(probe_interpolate, _reference_class, _interpolation_alternatives)


def training_batches(images, params, generator):
    """The graded run's training batches: float32 tensors of shape (batch, 784), values in [0, 1], in the order
    of one ``torch.randperm`` of the training set per epoch (``images``: uint8 of shape (60000, 28, 28))."""
    for _ in range(params["epochs"]):
        for index in torch.randperm(len(images), generator=generator).split(params["batch_size"]):
            yield images[index].float().div_(255).view(len(index), 784).to(DEVICE)


def probe_training(vae_class, case, arrays):
    """Train ``VAE2D(784, hidden, 2)`` with the submission's own ``loss(x, beta)`` and return the trained weights.

    ``info`` holds the steps taken, the step whose loss was not finite (training stops there) and the CPU
    seconds of the training loop.
    """
    import vae_utils

    p = case["params"]
    images, _ = vae_utils.load_mnist(train=True, root=p["root"], download=False)
    torch.manual_seed(p["seed"])
    initial = grader_start(784, p["hidden_dim"], 2)
    generator = torch.Generator().manual_seed(p["seed"])
    vae = student_init("VAE2D.__init__", vae_class, 784, p["hidden_dim"], 2)
    modules, unfit = start_from(vae, initial)
    if unfit:
        return {"losses": np.zeros(0)}, {"unfit": unfit, "types": {n: type(getattr(vae, n, None)).__name__
                                                                   for n in unfit}}
    vae = vae.to(DEVICE)
    loss = method(vae, "loss")
    losses, info = train(vae, training_batches(images, p, generator), lambda x: loss(x, 1.0).mean(), "loss", p,
                         watch=modules)
    outputs = {"losses": losses}
    for layer, module in modules.items():
        outputs[f"w/{layer}.weight"] = to_array(module.weight, "", "")
        outputs[f"w/{layer}.bias"] = to_array(module.bias, "", "")
    return outputs, info


def grader_start(obs_dim, hidden_dim, latent_dim):
    """The grader's starting weights of the training run, by layer name: the notebook's five ``nn.Linear`` layers,
    created in the notebook's order (so that, from the same seed, they are the reference ``VAE2D``'s own: the
    calibration's start)."""
    return {"linear1": torch.nn.Linear(obs_dim, hidden_dim), "linear21": torch.nn.Linear(hidden_dim, latent_dim),
            "linear22": torch.nn.Linear(hidden_dim, latent_dim), "linear3": torch.nn.Linear(latent_dim, hidden_dim),
            "linear4": torch.nn.Linear(hidden_dim, obs_dim)}


def _digit_codes(mu, labels, per_digit, generator):
    """``per_digit`` codes per digit 0-9, as the notebook picks them: among the codes of that digit's images,
    the purest tenth (most of their 50 nearest codes are the same digit), each moved by a small random step."""
    codes = []
    for digit in range(10):
        region = mu[labels == digit]
        neighbours = torch.cdist(region, mu).topk(50, largest=False).indices
        purity = (labels[neighbours] == digit).float().mean(dim=1)
        pure = region[purity >= purity.quantile(0.9)]
        chosen = pure[torch.randperm(len(pure), generator=generator)[:per_digit]]
        codes.append(chosen + 0.05 * region.std(dim=0) * torch.randn(chosen.shape, generator=generator))
    return torch.cat(codes)


def probe_evaluate(_, case, arrays):
    """Runs no student code: the reference VAE2D with the trained weights of ``arrays`` on the MNIST test set.

    Returns the test-set ELBO (mean over the images, one sample each, noise from the case's seed, in nats), the
    reconstructions of the first ``reconstructions`` test images, ``samples`` images decoded from the prior, and
    the per-digit grid (10 rows of ``per_digit`` images decoded from each digit's region of the latent plane).
    """
    import vae_utils

    p = case["params"]
    images, labels = vae_utils.load_mnist(train=False, root=p["root"], download=False)
    x = images.float().div(255).view(len(images), 784).to(DEVICE)
    vae = build(_reference_class(), {"dims": [784, p["hidden_dim"], 2]}, arrays)
    generator = torch.Generator().manual_seed(p["seed"])
    with torch.no_grad():
        elbo = sum(float(-vae.loss(batch, 1.0).sum()) for batch in x.split(1000))
        mu = torch.cat([vae.encoder(batch)[0] for batch in x.split(1000)])
        codes = _digit_codes(mu, labels.to(DEVICE), p["per_digit"], generator)
        prior = torch.randn((p["samples"], 2), generator=generator)
        outputs = {"reconstructions": vae.reconstruct(x[:p["reconstructions"]]),
                   "samples": vae.decoder(prior.to(DEVICE)), "digit_grid": vae.decoder(codes)}
    return {"test_elbo": np.array([elbo / len(x)]), **{k: to_array(v, "", "") for k, v in outputs.items()}}, {}
