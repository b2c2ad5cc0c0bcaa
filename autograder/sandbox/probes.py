"""Probes: each builds the submission's VAE with the grader's weights, calls one method, and returns
raw arrays. Nothing here decides a score; the trusted process does, from what a probe returns.

A probe is ``probe(VAE, case, arrays) -> (outputs, info)``: ``case`` is the JSON part of a test case
(``dims`` and ``params``), ``arrays`` its arrays, ``outputs`` a dict of ndarrays and ``info`` a dict of
JSON values.
"""
import functools
import sys
import time
import traceback
import types

import numpy as np
import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")


class StudentError(Exception):
    """Student code raised, or returned something that is not what the docstring promises."""

    def __init__(self, where, message, exc=None):
        super().__init__(message)
        self.where, self.message, self.exc = where, message, exc

    def report(self, filename):
        """JSON for the trusted process: where it happened, what, and the student's own frames."""
        frames = []
        if self.exc is not None:
            frames = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
                      for f in traceback.extract_tb(self.exc.__traceback__) if f.filename == filename]
        return {"where": self.where, "message": self.message, "frames": frames[-5:],
                "error": type(self.exc).__name__ if self.exc is not None else None}


def call(where, fn, *args):
    """Call student code; any exception, SystemExit included, becomes a StudentError naming ``where``."""
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: B036 - a submission may raise SystemExit or KeyboardInterrupt
        raise StudentError(where, str(exc).strip()[:2000], exc) from None


def method(vae, name):
    """The bound method ``vae.name``; a StudentError when the VAE has none."""
    found = getattr(vae, name, None)
    if not callable(found):
        raise StudentError(name, f"your VAE has no method {name}(...); the notebook's VAE class defines it")
    return found


#: What student code read from torch.distributions while one of its methods ran, in this case:
#: ``{"read": "torch.distributions.Normal", "by": [innermost VAE method, ..., outermost]}`` entries.
TOUCHED = []


def _record_touch(frame, filename, vae_class, read):
    """Record that the code of ``frame`` read ``read`` from torch.distributions, with the VAE methods on the
    stack, when that code is the submission's and a method of its VAE is running (not while loading)."""
    if frame.f_code.co_filename != filename or vae_class is None or len(TOUCHED) >= 20:
        return
    codes = {getattr(fn, "__code__", None): name for name, fn in vars(vae_class).items()}
    chain = []
    while frame is not None:
        if frame.f_code.co_filename == filename and frame.f_code in codes:
            chain.append(codes[frame.f_code])
        frame = frame.f_back
    entry = {"read": read, "by": chain}
    if chain and entry not in TOUCHED:
        TOUCHED.append(entry)


def watch_distributions(filename, vae_class_of):
    """Put watchers in place of torch.distributions and its submodules (the ``torch`` attribute and
    ``sys.modules``), so that whatever path student code takes to them (``getattr`` with a computed name,
    ``sys.modules``, ``vars(torch)``), reading from them while a VAE method runs is recorded in
    :data:`TOUCHED`. Reads by other code (the reference pieces, torch itself) pass through unrecorded.

    ``vae_class_of()`` returns the submission's VAE class (None while it is being loaded).
    """
    def watcher(real):
        class Watched(types.ModuleType):
            def __getattr__(self, name):
                _record_touch(sys._getframe(1), filename, vae_class_of(), f"{real.__name__}.{name}")
                return getattr(real, name)

            def __setattr__(self, name, value):
                setattr(real, name, value)

            def __dir__(self):
                return dir(real)

        watched = Watched(real.__name__)
        watched.__dict__.clear()  # every attribute goes through __getattr__
        return watched

    for name, module in list(sys.modules.items()):
        if (name == "torch.distributions" or name.startswith("torch.distributions.")) \
                and isinstance(module, types.ModuleType) and type(module) is types.ModuleType:
            sys.modules[name] = watcher(module)
    torch.distributions = sys.modules["torch.distributions"]


def load(source, filename):
    """Run the submission's code in a namespace that holds what the notebook's first cell defines.

    Returns the ``VAE`` class. From here on, what its methods read from torch.distributions is recorded
    (see :func:`watch_distributions`).
    """
    namespace = {"__name__": "submission", "torch": torch, "nn": torch.nn, "F": torch.nn.functional,
                 "np": np, "device": DEVICE}
    watch_distributions(filename, lambda: namespace.get("VAE") if isinstance(namespace.get("VAE"), type) else None)
    code = call("loading your code", compile, source, filename, "exec")
    call("loading your code", exec, code, namespace)
    vae_class = namespace.get("VAE")
    if not isinstance(vae_class, type):
        raise StudentError("loading your code", "running your code did not define a class VAE")
    return vae_class


def tensor(array):
    return torch.as_tensor(np.asarray(array), device=DEVICE)


def to_array(value, where, name):
    """Raw ndarray of a returned tensor; anything that is not a torch.Tensor is a StudentError."""
    if not isinstance(value, torch.Tensor):
        raise StudentError(where, f"{name} should be a torch.Tensor, but {where} returned "
                                  f"{type(value).__name__}")
    value = torch.Tensor.detach(value).cpu()
    if value.dtype not in (torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool):
        raise StudentError(where, f"{name} has dtype {value.dtype}; a float32 tensor is expected")
    return np.array(value.numpy())


def pair(value, where, names):
    """Split a returned (a, b) tuple into two arrays."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        got = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise StudentError(where, f"{where} should return a tuple ({', '.join(names)}), but returned {got}")
    return {name: to_array(v, where, name) for name, v in zip(names, value)}


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
    """The reference pieces, when the trusted process gave this probe any (see ``runner.REFERENCE_PIECES``)."""
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
    generator = torch.Generator().manual_seed(params["seed"])
    vae = call("VAE.__init__", vae_class, 784, params["latent_dim"], params["hidden_dim"]).to(DEVICE)
    fused = {"fused": True} if params.get("fused_adam") else {}
    optimizer = torch.optim.Adam(vae.parameters(), lr=params["learning_rate"], **fused)
    losses, info, start = [], {"steps": 0, "nonfinite_step": None}, time.thread_time()
    for x in training_batches(images, params, generator):
        optimizer.zero_grad()
        loss = -call("elbo (during training)", method(vae, "elbo"), x).mean()
        if not torch.isfinite(loss):
            info["nonfinite_step"] = info["steps"]
            break
        call("elbo (backward pass during training)", loss.backward)
        optimizer.step()
        losses.append(float(loss))
        info["steps"] += 1
    info["cpu_seconds"] = time.thread_time() - start
    outputs = {"losses": np.array(losses)}
    for layer in LAYERS:
        module = getattr(vae, layer)
        outputs[f"w/{layer}.weight"] = to_array(module.weight, "", "")
        outputs[f"w/{layer}.bias"] = to_array(module.bias, "", "")
    return outputs, info


def probe_ping(_, case, arrays):
    """Runs no student code: the trusted process's check that a child starts, can import what the probes
    import lazily (``vae_utils``, ``torch.distributions``, from the runtime and site-packages) and answers."""
    import importlib

    for module in ("vae_utils", "torch.distributions", "gzip"):
        importlib.import_module(module)
    return {"ok": np.ones(1)}, {"torch": torch.__version__}


PROBES = {name[len("probe_"):]: fn for name, fn in globals().items() if name.startswith("probe_")}
#: Probes that load no student code (the trusted process relies on their outputs as expected values).
WITHOUT_STUDENT_CODE = {"elbo_reference", "ping"}


def run(request, arrays, source, filename):
    """Run the requested probe on every case; returns (outputs, info) keyed by case index."""
    vae_class = None if request["probe"] in WITHOUT_STUDENT_CODE else load(source, filename)
    probe = PROBES[request["probe"]]
    outputs, info = {}, {}
    for index, case in enumerate(request["cases"]):
        prefix = f"{index}/"
        mine = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        torch.manual_seed(request["seed"] + index)
        TOUCHED.clear()
        case_outputs, info[str(index)] = probe(vae_class, case, mine)
        if TOUCHED:
            info[str(index)]["distributions"] = list(TOUCHED)
        outputs.update({prefix + k: v for k, v in case_outputs.items()})
    return outputs, info
