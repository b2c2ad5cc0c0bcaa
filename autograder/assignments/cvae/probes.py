"""Part 3's probes (child side): the submission's ConvVAE and ConditionalVAE, each method graded with the
reference's layers, weights and other methods around it.

A probe is ``probe(student_class, case, arrays) -> (outputs, info)`` (see :mod:`autograder.sandbox.probing`). The
reference (module ``reference``, generated from the solution notebook) gives every layer, seeded by the case, so
that the expected child, which runs the same probe on the reference classes, uses the same weights. Reference
methods of ``ConditionalVAE`` run bound to a reference instance that shares the layers (they call ``super()``);
inside the method under test, ``super()`` reaches the submission's ConvVAE, whose methods are the reference's here.
"""
import sys
import types

import numpy as np
import torch
from probing import DEVICE, StudentError, call, expected, start_from, student_init, tensor, to_array, train
from vae_check import (LAYOUT, cvae_call_decoder, cvae_call_encoder, cvae_call_generate, cvae_call_loss,
                       cvae_call_sample)
from vae_check import cvae_spread as spread  # noqa: F401 - the probes' spread (tools/spread_cases.py reads it)

ENCODER = ("conv1", "conv2", "fc", "fc_mu", "fc_logvar")
DECODER = ("fc_dec", "deconv1", "deconv2", "deconv3")
LAYERS = ENCODER + DECODER
PIECES = ("encoder", "decoder", "reparameterize", "loss", "sample")


def _reference():
    return sys.modules["reference"]


def _reference_model(case, arrays=None):
    """The reference's ``params["class_name"](2)`` with weights drawn from ``params["seed"]`` (the same in every
    child); with ``params["spread"]``, its heads and last layer spread over both signs on the case's inputs (see
    :func:`spread`); with ``params["constant"]``, a decoder that ignores z (fc_dec's z columns are zero).
    ``arrays`` is unused (kept for the callers' symmetry)."""
    p = case["params"]
    torch.manual_seed(p["seed"])
    model = getattr(_reference(), p["class_name"])(2).to(DEVICE)
    if p.get("spread"):
        spread(model, p["spread"])
    if p.get("constant"):
        with torch.no_grad():
            model.fc_dec.weight[:, :model.latent_dim] = 0.0
    return model


def _own_base(student_class):
    """The submission's ConvVAE among the bases of ``student_class`` (None when it has none of that name)."""
    return next((k for k in student_class.__mro__[1:] if k.__name__ == "ConvVAE" and k is not torch.nn.Module), None)


def build(student_class, class_name, case, arrays=None):
    """An instance of the submission's ``student_class`` (its own ``__init__``, or none when that raises) whose
    layers are the reference's, with the case's weights (:func:`_reference_model` on ``arrays``), and whose
    latent_dim and num_classes are the grader's (2 and 10, whatever its ``__init__`` set); and the reference
    instance sharing those layers."""
    reference = _reference_model(case, arrays)
    try:
        vae = student_class(2)
        vae = vae if isinstance(vae, torch.nn.Module) else None
    except BaseException:  # noqa: B036 - __init__ is graded in its own test
        vae = None
    if vae is None:
        vae = student_class.__new__(student_class)
        torch.nn.Module.__init__(vae)
    try:  # the sizes are the grader's: a wrong latent_dim in __init__ costs __init__'s test only
        vae.latent_dim, vae.num_classes = 2, 10
    except BaseException:  # noqa: B036 - a property without a setter: the method under test reads its own
        pass
    for name in LAYERS:
        _take_layer(vae, name, getattr(reference, name))
    base = _own_base(student_class)
    if base is not None and base is not getattr(_reference(), "ConvVAE", None):
        for name in ("encoder", "decoder", "reparameterize", "loss"):  # super() in the method under test
            if hasattr(_reference().ConvVAE, name):
                setattr(base, name, getattr(_reference().ConvVAE, name))
    return vae.to(DEVICE), reference




def _take_layer(vae, name, layer):
    """Give ``vae`` the reference's ``layer`` as ``name``: when the student's own module is the same layer (type,
    layout, shapes), the reference's weights are copied into it in place, so that a Sequential built around it in
    ``__init__`` sees them; otherwise the reference's module replaces it."""
    own = getattr(vae, name, None)
    same = (type(own) is type(layer)
            and all(getattr(own, key, None) == getattr(layer, key, None) for key in LAYOUT)
            and [p.shape for p in own.parameters()] == [p.shape for p in layer.parameters()])
    if not same:
        setattr(vae, name, layer)
        return
    with torch.no_grad():
        for mine, theirs in zip(own.parameters(), layer.parameters()):
            mine.copy_(theirs)


def surround(vae, reference, keep, noise=None):
    """Every method of :data:`PIECES` but ``keep`` becomes the reference's (bound to the reference instance, which
    is made to share ``vae``'s layers). With ``noise``, reparameterize returns ``mu + exp(logvar / 2) * noise`` on the whole batch
    (fresh noise otherwise); returns the list of its calls (True: the noise was used)."""
    calls = []
    for name in LAYERS:
        setattr(reference, name, getattr(vae, name))
    for name in PIECES:
        if name != keep and hasattr(type(reference), name):
            setattr(vae, name, getattr(reference, name))
    if noise is not None:  # the notebook's own (given) reparameterize, with the case's noise
        def reparameterize(mu, logvar):
            calls.append(tuple(mu.shape) == tuple(noise.shape))
            return mu + torch.exp(0.5 * logvar) * (noise if calls[-1] else torch.randn_like(mu))

        vae.reparameterize = reference.reparameterize = reparameterize
    return calls


def method_of(student_class, vae, name):
    """The submission's own ``name`` of ``student_class``, bound to ``vae`` (StudentError when it has none)."""
    found = getattr(student_class, name, None)
    if not callable(found):
        raise StudentError(name, f"your {student_class.__name__} has no method {name}(...); the notebook defines it")
    return types.MethodType(found, vae)


def _labels(arrays):
    return torch.as_tensor(arrays["c"], device=DEVICE)


def probe_layers(student_class, case, arrays):
    """The submission's own ``__init__``: each layer's type, parameter shapes, and output shape when the
    reference's encoder and decoder run through it on ``x`` and ``z``; its own initial weights."""
    class_name, conditional = case["params"]["class_name"], case["params"]["class_name"] == "ConditionalVAE"
    base = _own_base(student_class)
    if conditional and base is not None:
        base.__init__ = _reference_init  # ConvVAE's layers are their own task
    torch.manual_seed(case["params"]["seed"])
    vae = call(f"{class_name}.__init__", student_class, 2)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError(f"{class_name}.__init__", f"{class_name} must be an nn.Module")
    outputs, info, shapes = {}, {"types": {}}, {}
    for name in LAYERS:
        module = getattr(vae, name, None)
        info["types"][name] = type(module).__name__ if module is not None else None
        if isinstance(module, torch.nn.Module):
            outputs[f"params/{name}"] = np.array([sum(p.numel() for p in module.parameters())], np.int64)
            module.register_forward_hook(lambda m, a, out, name=name: _record(shapes, name, out))
            for key, value in module.state_dict().items():
                outputs[f"w/{name}.{key}"] = to_array(value, "", "")
    args = (_labels(arrays),) if conditional else ()
    try:
        twin = _bound(getattr(_reference(), class_name), vae)
        with torch.no_grad():
            mu, logvar = twin.encoder(tensor(arrays["x"]), *args)
            outputs["mu"], outputs["logvar"] = to_array(mu, "", ""), to_array(logvar, "", "")
            outputs["theta"] = to_array(twin.decoder(tensor(arrays["z"]), *args), "", "")
    except Exception as exc:  # the layers do not fit together: the grader says which, from their shapes
        info["forward_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    for name, shape in shapes.items():
        outputs[f"shape/{name}"] = np.array(shape, np.int64)
    return outputs, info


def _reference_init(self, latent_dim=2):
    """The reference ConvVAE's ``__init__`` for an instance of the submission's class (the reference's own calls
    ``super()``, which needs an instance of the reference's class): its layers, on ``self``."""
    torch.nn.Module.__init__(self)
    reference = _reference().ConvVAE(latent_dim)
    self.latent_dim = latent_dim
    for name in LAYERS:
        setattr(self, name, getattr(reference, name))


def _record(shapes: dict, name: str, out) -> None:
    """A forward hook's body: keep the first output shape of layer ``name`` (returns None: the output stays)."""
    shapes.setdefault(name, tuple(out.shape))


def _bound(reference_class, vae):
    """A reference instance sharing ``vae``'s layers (for the reference's methods that call super())."""
    twin = reference_class.__new__(reference_class)
    torch.nn.Module.__init__(twin)
    twin.latent_dim, twin.num_classes = 2, 10
    for name in LAYERS:
        setattr(twin, name, getattr(vae, name))
    return twin


def probe_evaluate_layers(_, case, arrays):
    """Runs no student code: the reference with the weights a student's ``__init__`` made (``arrays``' ``w/``)
    on the same ``x`` and ``z``: what the student's layers must give."""
    class_name = case["params"]["class_name"]
    vae = getattr(_reference(), class_name)(2).to(DEVICE)
    with torch.no_grad():
        for name in LAYERS:
            for key, value in getattr(vae, name).state_dict().items():
                value.copy_(tensor(arrays[f"w/{name}.{key}"]))
        args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
        mu, logvar = vae.encoder(tensor(arrays["x"]), *args)
        theta = vae.decoder(tensor(arrays["z"]), *args)
    return {"expected/mu": to_array(mu, "", ""), "expected/logvar": to_array(logvar, "", ""),
            "expected/theta": to_array(theta, "", "")}, {}


def probe_encoder(student_class, case, arrays):
    """encoder(x[, c]) with the reference's layers: mu, logvar, and the input conv1 received (the image and,
    for the ConditionalVAE, its label's planes)."""
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case, arrays)
    surround(vae, reference, "encoder")
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where = f"{class_name}.encoder"
    return cvae_call_encoder(vae, method_of(student_class, vae, "encoder"), where, tensor(arrays["x"]), args)


def probe_decoder(student_class, case, arrays):
    """decoder(z[, c]) with the reference's layers: theta, and the input fc_dec received (z and, for the
    ConditionalVAE, its label's one-hot vector)."""
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case, arrays)
    surround(vae, reference, "decoder")
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where = f"{class_name}.decoder"
    return cvae_call_decoder(vae, method_of(student_class, vae, "decoder"), where, tensor(arrays["z"]), args)


def probe_loss(student_class, case, arrays):
    """loss with the reference's encoder, decoder and a reparameterize that uses the case's noise. When the loss
    draws its own noise instead, ``params["repeats"]`` more calls with fresh noise: their values (``repeats``) and
    the z each decoded (``decoded``, from fc_dec's input; rows call by call)."""
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case, arrays)
    calls = surround(vae, reference, "loss", tensor(arrays["eps"]))
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where, loss = f"{class_name}.loss", method_of(student_class, vae, "loss")
    return cvae_call_loss(vae, loss, where, tensor(arrays["x"]), args, calls, case["params"].get("repeats", 0),
                          lambda: surround(vae, reference, "loss"))  # the reference's reparameterize, fresh noise


def _loss_terms(case, arrays):
    """The reference's mu, logvar, theta = decoder(z) for the case's noise, theta_var for the z that passing the
    variance as logvar to reparameterize gives, the images x, and ``params["repeats"]`` losses of the reference
    with fresh noise: the graders compute the loss's terms and mistakes from them (this module is loaded by
    students' children too, so it holds no formula of a graded method: tests/hostile/vae2d/call_probe_helpers.py)."""
    conditional = case["params"]["class_name"] == "ConditionalVAE"
    vae = _reference_model(case, arrays)
    x, c, eps = tensor(arrays["x"]), _labels(arrays), tensor(arrays["eps"])
    args = (c,) if conditional else ()
    with torch.no_grad():
        mu, logvar = vae.encoder(x, *args)
        theta = vae.decoder(mu + torch.exp(0.5 * logvar) * eps, *args)
        theta_var = vae.decoder(mu + torch.exp(0.5 * torch.exp(logvar)) * eps, *args)
        out = {"mu": to_array(mu, "", ""), "logvar": to_array(logvar, "", ""), "theta_z": to_array(theta, "", ""),
               "theta_var": to_array(theta_var, "", ""), "x": to_array(x, "", "")}
        repeats = case["params"].get("repeats", 0)
        if repeats:
            many = (x.repeat(repeats, 1, 1, 1), *(a.repeat(repeats) for a in args))
            out["repeats"] = np.concatenate([to_array(vae.loss(*chunk), "", "") for chunk in
                                             zip(*(m.split(50 * len(x)) for m in many))]).reshape(repeats, len(x))
    return out


#: Codes the reference decoder takes at once where a student's method decodes many (``sample`` of 1,000 labels:
#: at once, the deconvolutions' activations take about 370 MB; in parts of 100, a tenth).
DECODE_ROWS = 100


def decode_in_parts(decoder, rows: int = DECODE_ROWS):
    """``decoder(z, c)`` run on at most ``rows`` codes at a time when called with two tensors of the same length
    (the same images, row by row, in order); called in any other way, ``decoder`` itself."""
    def decode(*args, **kwargs):
        if kwargs or len(args) != 2 or not all(isinstance(a, torch.Tensor) and a.dim() for a in args) \
                or len(args[0]) != len(args[1]) or len(args[0]) <= rows:
            return decoder(*args, **kwargs)
        return torch.cat([decoder(z, c) for z, c in zip(args[0].split(rows), args[1].split(rows))])
    return decode


def probe_sample(student_class, case, arrays):
    """sample(c) with the reference decoder (:func:`decode_in_parts`): the images, and the decoder's input (z and
    the label's one-hot vector, recorded by a hook on fc_dec)."""
    vae, reference = build(student_class, "ConditionalVAE", case, arrays)
    surround(vae, reference, "sample")
    vae.decoder = decode_in_parts(vae.decoder)
    return cvae_call_sample(vae, method_of(student_class, vae, "sample"), _labels(arrays))


def probe_generate(student_class, case, arrays):
    """generate(digits, n) with the reference sample: the images, the labels sample was given, in order, and
    what fc_dec received (z and the one-hot vectors, call by call)."""
    vae, reference = build(student_class, "ConditionalVAE", case, arrays)
    surround(vae, reference, "generate")
    p = case["params"]
    return cvae_call_generate(vae, method_of(student_class, vae, "generate"), p["digits"], p["n"])


def probe_decode(_, case, arrays):
    """Runs no student code: the reference decoder of the case's model (seed, spread) on the recorded rows of
    fc_dec's input (``arrays["inputs"]``, z joined to the one-hot label): what a sample or generate that returns
    what it decoded must return, row by row."""
    vae = _reference_model(case)
    with torch.no_grad():
        rows = tensor(arrays["inputs"]).float()
        theta = torch.cat([_reference().ConvVAE.decoder(vae, part) for part in rows.split(250)])
    return {"expected/theta": to_array(theta, "", "")}, {}


def _reference_class_of(case):
    """The reference's class that a case names (``params["class_name"]``)."""
    return getattr(_reference(), case["params"].get("class_name", "ConditionalVAE"))


probe_expected_encoder = expected(probe_encoder, _reference_class_of)
probe_expected_decoder = expected(probe_decoder, _reference_class_of)
probe_expected_loss = expected(probe_loss, _reference_class_of, _loss_terms)


def training_batches(images, labels, params, generator):
    """The graded run's batches: ``params["images"]`` training images (the first of one ``torch.randperm``), as
    float32 of shape (batch, 1, 28, 28) in [0, 1], with their labels (batch,) int64, ``params["epochs"]`` times."""
    subset = torch.randperm(len(images), generator=generator)[:params["images"]]
    for _ in range(params["epochs"]):
        for index in subset[torch.randperm(len(subset), generator=generator)].split(params["batch_size"]):
            yield images[index].float().div_(255).unsqueeze(1).to(DEVICE), labels[index].to(DEVICE)


def grader_start(seed, init="he"):
    """The grader's starting point of the training run, by layer name: the reference ``ConditionalVAE(2)``'s layers
    drawn from ``seed``, with the notebook's He initialisation (``he_init``: weights from N(0, 2 / fan-in), biases
    0) when ``init`` is "he" (PyTorch's default one when "default": from it, the short run leaves the model partly
    collapsed; see the README)."""
    model = _reference_model({"params": {"class_name": "ConditionalVAE", "seed": seed}})
    with torch.no_grad():
        for name in LAYERS if init == "he" else ():
            torch.nn.init.kaiming_normal_(getattr(model, name).weight, nonlinearity="relu")
            torch.nn.init.zeros_(getattr(model, name).bias)
    return {name: getattr(model, name) for name in LAYERS}


def probe_training(student_class, case, arrays):
    """Train the submission's ``ConditionalVAE(2)`` with its own ``loss(x, c)`` on a subset of the training set,
    from the grader's starting point (:func:`grader_start`, put into the student's own layers); return the trained
    weights. ``info``: steps, the step whose loss was not finite, the loop's CPU seconds, the layers that are not the
    notebook's (``unfit``: nothing trained), those training left unmoved, the step where the loss changed them."""
    import vae_utils

    p = case["params"]
    images, labels = vae_utils.load_mnist(train=True, root=p["root"], download=False)
    initial = grader_start(p["seed"], p.get("init", "he"))
    generator = torch.Generator().manual_seed(p["seed"])
    vae = student_init("ConditionalVAE.__init__", student_class, 2)
    modules, unfit = start_from(vae, initial)
    if unfit:
        return {"losses": np.zeros(0)}, {"unfit": unfit, "types": {n: type(getattr(vae, n, None)).__name__
                                                                   for n in unfit}}
    vae = vae.to(DEVICE)
    loss = method_of(student_class, vae, "loss")
    losses, info = train(vae, training_batches(images, labels, p, generator), lambda batch: loss(*batch).mean(),
                         "ConditionalVAE.loss", p, watch=modules)
    outputs = {"losses": losses}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            outputs[f"w/{name}.{key}"] = to_array(value, "", "")
    return outputs, info


#: Test images whose noise the trusted evaluation draws at once, as one call of the loss on them would.
ELBO_BLOCK = 500


def test_elbo_sum(vae, x, c) -> float:
    """The ELBO of images ``x`` (n, 1, 28, 28) in [0, 1] with labels ``c`` (n,) under the reference ``vae``, summed
    over the images, in nats (one sample each; call it under ``torch.no_grad()``). Blocks of ``ELBO_BLOCK`` images,
    each block's noise drawn at once as one call of the loss on the block draws it, run ``DECODE_ROWS`` images at
    a time: the numbers of one call per block, with a fifth of its activations in memory (about 240 MB at once)."""
    total, drawn = 0.0, []
    vae.reparameterize = lambda mu, logvar: mu + torch.exp(0.5 * logvar) * drawn.pop(0)
    for xb, cb in zip(x.split(ELBO_BLOCK), c.split(ELBO_BLOCK)):
        drawn.extend(torch.randn(len(xb), vae.latent_dim, device=x.device).split(DECODE_ROWS))
        total += sum(float(-vae.loss(xp, cp).sum()) for xp, cp in zip(xb.split(DECODE_ROWS), cb.split(DECODE_ROWS)))
    del vae.reparameterize
    return total


def probe_evaluate(_, case, arrays):
    """Runs no student code: the reference ConditionalVAE with the trained weights of ``arrays`` on the first
    ``test_images`` MNIST test images: the test-set ELBO (one sample per image, in nats), ``per_digit`` samples
    of each digit 0-9 (z ~ N(0, I), digit by digit), and the images decoded at fixed z with every label."""
    import vae_utils

    p = case["params"]
    images, labels = vae_utils.load_mnist(train=False, root=p["root"], download=False)
    x = images[:p["test_images"]].float().div(255).unsqueeze(1).to(DEVICE)
    c = labels[:p["test_images"]].to(DEVICE)
    vae = _reference().ConditionalVAE(2).to(DEVICE)
    with torch.no_grad():
        for name in LAYERS:
            for key, value in getattr(vae, name).state_dict().items():
                value.copy_(tensor(arrays[f"w/{name}.{key}"]))
        elbo = test_elbo_sum(vae, x, c)
        digits = torch.arange(10, device=DEVICE).repeat_interleave(p["per_digit"])
        samples = vae.decoder(torch.randn(len(digits), 2, device=DEVICE), digits)
        z = torch.randn(p["fixed_codes"], 2, device=DEVICE)
        relabelled = torch.stack([vae.decoder(z, torch.full((len(z),), d, device=DEVICE)) for d in range(10)])
    return {"test_elbo": np.array([elbo / len(x)]), "samples": to_array(samples, "", ""),
            "relabelled": to_array(relabelled, "", "")}, {}


#: The probes of spec.py, one per class: the functions above take the class from the case's params.
probe_conv_layers = probe_cond_layers = probe_layers
probe_decode_sample = probe_decode_generate = probe_decode
probe_evaluate_conv_layers = probe_evaluate_cond_layers = probe_evaluate_layers
probe_conv_encoder = probe_cond_encoder = probe_encoder
probe_conv_decoder = probe_cond_decoder = probe_decoder
probe_conv_loss = probe_cond_loss = probe_loss
probe_expected_conv_encoder = probe_expected_cond_encoder = probe_expected_encoder
probe_expected_conv_decoder = probe_expected_cond_decoder = probe_expected_decoder
probe_expected_conv_loss = probe_expected_cond_loss = probe_expected_loss
