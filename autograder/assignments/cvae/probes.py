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
from probing import (DEVICE, StudentError, call, expected, pair, start_from, student_init, tensor, to_array,
                     train)

ENCODER = ("conv1", "conv2", "fc", "fc_mu", "fc_logvar")
DECODER = ("fc_dec", "deconv1", "deconv2", "deconv3")
LAYERS = ENCODER + DECODER
PIECES = ("encoder", "decoder", "reparameterize", "loss", "sample")


def _reference():
    return sys.modules["reference"]


def _reference_model(class_name, seed, logvar_shift=0.0):
    """The reference's ``class_name(2)`` with weights drawn from ``seed`` (the same in every child), its
    log-variance head's bias moved by ``logvar_shift`` (so that a KL that reads logvar as log sigma shows)."""
    torch.manual_seed(seed)
    model = getattr(_reference(), class_name)(2).to(DEVICE)
    with torch.no_grad():
        model.fc_logvar.bias.add_(logvar_shift)
    return model


def _own_base(student_class):
    """The submission's ConvVAE among the bases of ``student_class`` (None when it has none of that name)."""
    return next((k for k in student_class.__mro__[1:] if k.__name__ == "ConvVAE" and k is not torch.nn.Module), None)


def build(student_class, class_name, case):
    """An instance of the submission's ``student_class`` (its own ``__init__``, or none when that raises) whose
    layers are the reference's, with the case's weights; and the reference instance sharing those layers."""
    reference = _reference_model(class_name, case["params"]["seed"], case["params"].get("logvar_shift", 0.0))
    try:
        vae = student_class(2)
        vae = vae if isinstance(vae, torch.nn.Module) else None
    except BaseException:  # noqa: B036 - __init__ is graded in its own test
        vae = None
    if vae is None:
        vae = student_class.__new__(student_class)
        torch.nn.Module.__init__(vae)
        vae.latent_dim, vae.num_classes = 2, 10
    for name in LAYERS:
        _take_layer(vae, name, getattr(reference, name))
    base = _own_base(student_class)
    if base is not None and base is not getattr(_reference(), "ConvVAE", None):
        for name in ("encoder", "decoder", "reparameterize", "loss"):  # super() in the method under test
            if hasattr(_reference().ConvVAE, name):
                setattr(base, name, getattr(_reference().ConvVAE, name))
    return vae.to(DEVICE), reference


#: What, besides the weights' shapes, makes a layer the reference's: its layout.
LAYOUT = ("stride", "padding", "output_padding", "dilation", "groups", "padding_mode", "in_features", "out_features")


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
    if noise is not None:
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
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case)
    surround(vae, reference, "encoder")
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where = f"{class_name}.encoder"
    return pair(call(where, method_of(student_class, vae, "encoder"), tensor(arrays["x"]), *args), where,
                ("mu", "logvar")), {}


def probe_decoder(student_class, case, arrays):
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case)
    surround(vae, reference, "decoder")
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where = f"{class_name}.decoder"
    theta = call(where, method_of(student_class, vae, "decoder"), tensor(arrays["z"]), *args)
    return {"theta": to_array(theta, where, "theta")}, {}


def probe_loss(student_class, case, arrays):
    """loss with the reference's encoder, decoder and a reparameterize that uses the case's noise."""
    class_name = case["params"]["class_name"]
    vae, reference = build(student_class, class_name, case)
    calls = surround(vae, reference, "loss", tensor(arrays["eps"]))
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    where = f"{class_name}.loss"
    value = call(where, method_of(student_class, vae, "loss"), tensor(arrays["x"]), *args)
    return {"loss": to_array(value, where, "loss")}, {"noise_calls": sum(calls), "fresh_calls": len(calls) - sum(calls)}


def _loss_terms(case, arrays):
    """The reference's mu, logvar and theta = decoder(z) for the case's noise: the graders compute the loss's
    terms from them (this module is loaded by students' children too, so it holds no formula of a graded
    method: tests/hostile/vae2d/call_probe_helpers.py)."""
    class_name = case["params"]["class_name"]
    vae = _reference_model(class_name, case["params"]["seed"], case["params"].get("logvar_shift", 0.0))
    args = (_labels(arrays),) if class_name == "ConditionalVAE" else ()
    with torch.no_grad():
        mu, logvar = vae.encoder(tensor(arrays["x"]), *args)
        theta = vae.decoder(mu + torch.exp(0.5 * logvar) * tensor(arrays["eps"]), *args)
    return {"mu": to_array(mu, "", ""), "logvar": to_array(logvar, "", ""), "theta_z": to_array(theta, "", "")}


def probe_sample(student_class, case, arrays):
    """sample(c) with the reference decoder: the images, and the decoder's input (z and the label's one-hot
    vector, recorded by a hook on fc_dec)."""
    vae, reference = build(student_class, "ConditionalVAE", case)
    surround(vae, reference, "sample")
    seen = []
    vae.fc_dec.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    with torch.no_grad():  # sampling needs no gradients, and their activations would take ~200 MB
        theta = call("ConditionalVAE.sample", method_of(student_class, vae, "sample"), _labels(arrays))
    outputs = {"theta": to_array(theta, "ConditionalVAE.sample", "theta")}
    if seen:
        outputs["decoder_input"] = to_array(torch.cat(seen) if all(s.dim() == 2 for s in seen) else seen[-1], "", "")
    return outputs, {}


def probe_generate(student_class, case, arrays):
    """generate(digits, n) with the reference sample: the images and the labels sample was given, in order."""
    vae, reference = build(student_class, "ConditionalVAE", case)
    surround(vae, reference, "generate")
    given = []
    real_sample = vae.sample

    def sample(c):
        given.append(torch.as_tensor(c).detach().reshape(-1).cpu())
        return real_sample(c)

    vae.sample = sample
    p = case["params"]
    with torch.no_grad():
        theta = call("ConditionalVAE.generate", method_of(student_class, vae, "generate"), list(p["digits"]), p["n"])
    outputs = {"theta": to_array(theta, "ConditionalVAE.generate", "theta")}
    if given:
        outputs["labels"] = to_array(torch.cat(given).to(torch.int64), "", "")
    return outputs, {}


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
    model = _reference_model("ConditionalVAE", seed)
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
        elbo = sum(float(-vae.loss(xb, cb).sum()) for xb, cb in zip(x.split(500), c.split(500)))
        digits = torch.arange(10, device=DEVICE).repeat_interleave(p["per_digit"])
        samples = vae.decoder(torch.randn(len(digits), 2, device=DEVICE), digits)
        z = torch.randn(p["fixed_codes"], 2, device=DEVICE)
        relabelled = torch.stack([vae.decoder(z, torch.full((len(z),), d, device=DEVICE)) for d in range(10)])
    return {"test_elbo": np.array([elbo / len(x)]), "samples": to_array(samples, "", ""),
            "relabelled": to_array(relabelled, "", "")}, {}


#: The probes of spec.py, one per class: the functions above take the class from the case's params.
probe_conv_layers = probe_cond_layers = probe_layers
probe_evaluate_conv_layers = probe_evaluate_cond_layers = probe_evaluate_layers
probe_conv_encoder = probe_cond_encoder = probe_encoder
probe_conv_decoder = probe_cond_decoder = probe_decoder
probe_conv_loss = probe_cond_loss = probe_loss
probe_expected_conv_encoder = probe_expected_cond_encoder = probe_expected_encoder
probe_expected_conv_decoder = probe_expected_cond_decoder = probe_expected_decoder
probe_expected_conv_loss = probe_expected_cond_loss = probe_expected_loss
