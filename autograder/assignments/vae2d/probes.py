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
import vae_check
from probing import DEVICE, expected, method, start_from, student_init, tensor, to_array, train
from vae_check import VAE2D_LAYERS as LAYERS  # noqa: F401 - the layers the spec names too
from vae_check import vae2d_build as build
#: The methods the reference provides around the method under test (those it was given, see spec.py).
PIECES = ("encoder", "reparameterize", "decoder", "loss", "reconstruct")


def _reference_class(case=None):
    """The reference's VAE2D (the module ``reference``; ``case`` is unused: Part 2 has one class)."""
    return sys.modules["reference"].VAE2D


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


def _probe(name):
    """The probe of method ``name`` as the notebook's checks run it too (:mod:`vae_check`), with the reference's
    methods around it (:func:`surround`)."""
    shared = getattr(vae_check, f"vae2d_probe_{name}")

    def probe(vae_class, case, arrays):
        return shared(vae_class, case, arrays, surround)

    probe.__name__, probe.__doc__ = f"probe_{name}", shared.__doc__
    return probe


probe_encoder, probe_decoder, probe_reparameterize, probe_loss, probe_reconstruct, probe_latent_grid, \
    probe_interpolate, probe_pick_pairs = map(_probe, ("encoder", "decoder", "reparameterize", "loss", "reconstruct",
                                                        "latent_grid", "interpolate", "pick_pairs"))


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
