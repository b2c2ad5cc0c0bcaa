"""What every assignment's probes share, in the child: calling student code, loading it, returning arrays.

An assignment's ``probes.py`` (copied into the child runtime as ``probes_<name>.py``) defines one function
``probe_<name>(student_class, case, arrays) -> (outputs, info)`` per probe: ``case`` is the JSON part of a test
case (``name``, ``dims``, ``params``), ``arrays`` its arrays, ``outputs`` a dict of ndarrays and ``info`` a dict
of JSON values. Nothing here decides a score; the trusted process does, from what a probe returns.
"""
import sys
import traceback
import types

import numpy as np
import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
#: ``{"read": "torch.distributions.Normal", "by": ["VAE.kl_divergence", ..., outermost "Class.method"]}`` entries.
TOUCHED = []


def _record_touch(frame, filename, vae_class, read):
    """Record that the code of ``frame`` read ``read`` from torch.distributions, with the VAE methods on the
    stack, when that code is the submission's and a method of its VAE is running (not while loading)."""
    if frame.f_code.co_filename != filename or vae_class is None or len(TOUCHED) >= 20:
        return
    codes = {getattr(fn, "__code__", None): f"{klass.__name__}.{name}" for klass in reversed(vae_class.__mro__)
             for name, fn in vars(klass).items()}
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


def load(source, filename, class_name="VAE"):
    """Run the submission's code in a namespace that holds what the notebook's first cell defines.

    Returns its class ``class_name`` (a StudentError when it defines none). From here on, what its methods read from torch.distributions is recorded
    (see :func:`watch_distributions`).
    """
    namespace = {"__name__": "submission", "torch": torch, "nn": torch.nn, "F": torch.nn.functional,
                 "np": np, "device": DEVICE}
    watch_distributions(filename, lambda: namespace.get(class_name) if isinstance(namespace.get(class_name), type)
                        else None)
    code = call("loading your code", compile, source, filename, "exec")
    call("loading your code", exec, code, namespace)
    vae_class = namespace.get(class_name)
    if not isinstance(vae_class, type):
        raise StudentError("loading your code", f"running your code did not define a class {class_name}")
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


#: What, besides the weights' shapes, makes a layer the grader's: its layout.
LAYOUT = ("stride", "padding", "output_padding", "dilation", "groups", "padding_mode", "in_features", "out_features")


def same_layer(own, layer) -> bool:
    """Whether the student's module ``own`` is the layer ``layer``: same type, layout (:data:`LAYOUT`) and
    parameter names and shapes."""
    return (type(own) is type(layer) and all(getattr(own, key, None) == getattr(layer, key, None) for key in LAYOUT)
            and [(n, p.shape) for n, p in own.named_parameters()]
            == [(n, p.shape) for n, p in layer.named_parameters()])


def start_from(vae, initial: dict):
    """Put the grader's initial weights into the student's ``vae`` before training: for each ``name -> layer`` of
    ``initial``, when ``vae``'s own module ``name`` is that layer (:func:`same_layer`), its parameters are
    overwritten in place (a Sequential built around it in ``__init__`` sees them). Weights a student's
    ``__init__`` set (its own initialisation, or values trained elsewhere) are thus never what training starts from.

    Returns ``(modules, unfit)``: the student's modules that now hold the grader's weights, by name, and the names
    whose module is not the grader's layer (nothing is copied then; training is not graded).
    """
    modules, unfit = {}, []
    for name, layer in initial.items():
        own = getattr(vae, name, None)
        if isinstance(own, torch.nn.Module) and same_layer(own, layer):
            modules[name] = own
        else:
            unfit.append(name)
    if not unfit:
        with torch.no_grad():
            for name, own in modules.items():
                for mine, theirs in zip(own.parameters(), initial[name].parameters()):
                    mine.copy_(theirs)
    return modules, unfit


def student_init(where, cls, *args):
    """``cls(*args)`` (the student's ``__init__``, errors charged to ``where``) without touching the random state
    the grader's run uses: whatever it draws, the run's noise is the same as the reference's."""
    with torch.random.fork_rng(devices=[]):
        vae = call(where, cls, *args)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError(where, f"{cls.__name__} must be an nn.Module")
    return vae


_INTEGERS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _bits(parameter):
    """The bits of ``parameter`` as integers of its size (a view, no copy): equal bits, NaN included, are equal."""
    return parameter.detach().view(_INTEGERS[parameter.element_size()])


def _same(parameters, saved) -> bool:
    return all(torch.equal(_bits(p), s) for p, s in zip(parameters, saved))


def train(vae, batches, loss_of, where: str, params: dict, watch=None):
    """Adam (``params["learning_rate"]``, fused when ``params["fused_adam"]``) on ``vae``'s parameters, one step
    per batch: ``loss_of(batch)`` is the minibatch's scalar loss, computed by student code (errors are charged to
    ``where``, "elbo": "elbo (during training)"). Stops at the first loss that is not finite.

    ``watch`` (name -> module, from :func:`start_from`): the layers whose training is graded. Training stops when
    student code changes their weights itself (in the loss or its backward pass, not through Adam's step).

    Returns ``(losses, info)``: the losses (ndarray, float) and ``{"steps", "nonfinite_step", "cpu_seconds"}``,
    the CPU seconds of the loop on this thread; with ``watch``, ``"unmoved"`` (the watched layers whose weights
    training left where they started, of ``"watched"``) and ``"changed_step"`` (the step where student code changed
    them, or None).
    """
    import time

    fused = {"fused": True} if params.get("fused_adam") else {}
    optimizer = torch.optim.Adam(vae.parameters(), lr=params["learning_rate"], **fused)
    losses, info, start = [], {"steps": 0, "nonfinite_step": None}, time.thread_time()
    watched = {name: list(module.parameters()) for name, module in (watch or {}).items()}
    first = {name: [_bits(p).clone() for p in ps] for name, ps in watched.items()}
    everything = [p for ps in watched.values() for p in ps]
    last = [_bits(p).clone() for p in everything]
    info.update({"changed_step": None} if watch else {})
    for batch in batches:
        optimizer.zero_grad()
        loss = call(f"{where} (during training)", loss_of, batch)
        if not torch.isfinite(loss):
            info["nonfinite_step"] = info["steps"]
            break
        call(f"{where} (backward pass during training)", loss.backward)
        if not _same(everything, last):
            info["changed_step"] = info["steps"]
            break
        optimizer.step()
        for p, saved in zip(everything, last):
            saved.copy_(_bits(p))
        losses.append(float(loss))
        info["steps"] += 1
    info["cpu_seconds"] = time.thread_time() - start
    if watch:
        info["watched"] = len(watch)
        info["unmoved"] = [name for name, ps in watched.items() if _same(ps, first[name])]
    return np.array(losses, np.float64), info


def expected(probe, reference_class, extra=None):
    """A probe that runs no student code: ``probe`` run on ``reference_class(case)`` (a class of the reference
    module), its outputs, with ``extra(case, arrays)``'s, returned under ``expected/``: what the graders compare
    the student's outputs with."""
    def run(_, case, arrays):
        outputs, _info = probe(reference_class(case), case, arrays)
        outputs.update(extra(case, arrays) if extra else {})
        return {f"expected/{name}": value for name, value in outputs.items()}, {}

    run.__doc__ = f"{probe.__name__} on the reference; runs no student code."
    return run


def probe_ping(_, case, arrays):
    """Runs no student code: the trusted process's check that a child starts, can import what the probes
    import lazily (``vae_utils``, ``torch.distributions``, from the runtime and site-packages) and answers."""
    import importlib

    for module in ("vae_utils", "torch.distributions", "gzip"):
        importlib.import_module(module)
    return {"ok": np.ones(1)}, {"torch": torch.__version__}


def run(module, request, arrays, source, filename):
    """Run the requested probe of ``module`` on every case; returns (outputs, info) keyed by case index.

    ``request["student_code"]`` False runs a probe that loads no student code; otherwise the class
    ``request["class_name"]`` is loaded from ``source`` first.
    """
    student_code = request.get("student_code", True)
    vae_class = load(source, filename, request.get("class_name", "VAE")) if student_code else None
    probe = getattr(module, "probe_" + request["probe"])
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
