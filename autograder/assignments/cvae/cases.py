"""The inputs of Part 3's probes: deterministic, from fixed numpy seeds (grader side, numpy only).

Each case names the class it builds (``params["class_name"]``) and the torch seed of the reference's weights,
which the student's child and the expected child both draw.
"""
from __future__ import annotations

import numpy as np

from autograder.core.cases import Case, mnist_test_images

CLASSES = {"conv": "ConvVAE", "cond": "ConditionalVAE"}


#: Added to every case's seed when not empty: the notebook's checks use the grader's kinds of cases with other draws
#: (``make student`` sets it; the grader never does), so that their data does not hold the grader's own inputs.
SALT: tuple = ()
#: What the notebook's checks change of these cases besides the seeds (autograder/deploy/checks.py): sample's 200
#: labels rather than 1,000, so that its check and generate's (which runs it) take a fifth of the time.
CHECK_OVERRIDES = {"SAMPLE_COUNT": 200}


def _rng(name: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), 3, index, *SALT])


def images(rng: np.random.Generator, batch: int) -> np.ndarray:
    """float32 images of shape (batch, 1, 28, 28) in [0, 1], like MNIST: mostly 0 or 1, some in between."""
    x = (rng.random((batch, 1, 28, 28)) < 0.3).astype(np.float32)
    grey = rng.random(x.shape) < 0.2
    x[grey] = rng.random(int(grey.sum())).astype(np.float32)
    return x


def _case(kind: str, probe: str, batch: int, **extra) -> Case:
    rng = _rng(f"{probe}-{kind}")
    arrays = {"x": images(rng, batch), "z": rng.standard_normal((batch, 2)).astype(np.float32),
              "c": rng.integers(0, 10, batch).astype(np.int64),
              "eps": rng.standard_normal((batch, 2)).astype(np.float32)}
    params = {"class_name": CLASSES[kind], "seed": int(rng.integers(1000)), **extra}
    return Case((2,), arrays, params, name=kind, sizes={"batch": batch})


#: Calls of a loss that draws its own noise (its z is not the grader's): their z are tested as draws from q(z | x)
#: and their mean loss against the reference's over as many calls.
LOSS_REPEATS = 200
#: MNIST test images of the loss's "constant" case (real pixels: multiples of 1/255, exact 0s and 1s).
MNIST_IMAGES = (0, 1, 2, 3, 4, 7)


def _mnist(root, batch: int):
    """The first ``batch`` of :data:`MNIST_IMAGES` from the test set under ``root`` as float32 (batch, 1, 28, 28)
    in [0, 1], with their labels (int64); None when there is no ``root`` (numpy only)."""
    if root is None:
        return None
    x, labels = mnist_test_images(root, MNIST_IMAGES[:batch])
    return x.reshape(batch, 1, 28, 28), labels


def per_class(kind: str, probe: str, batch: int = 4):
    """The cases of probe ``probe`` for the class ``kind`` ("conv" or "cond").

    Every case but the layers' spreads the reference's heads and its decoder's last layer (``params["spread"]``:
    :data:`SPREAD`, applied by ``probes.spread``) so that mu, logvar and the pre-sigmoid take both signs on the
    case's inputs. Encoder and decoder: cases ``kind`` and ``kind_b`` (another seed and batch). Loss: case ``kind``
    with the grader's noise (and :data:`LOSS_REPEATS` more calls for a loss that draws its own), and case
    ``kind_constant``, whose decoder ignores z (the z columns of fc_dec are zero), so that any loss is exact there
    whatever noise it draws, on real MNIST images when ``root`` is given.
    """
    if probe == "layers":
        return lambda root=None: [_case(kind, probe, batch)]
    return lambda root=None: [_spread(probe, case) for case in _unspread(kind, probe, batch, root)]


def _unspread(kind: str, probe: str, batch: int, root) -> list:
    """The cases of :func:`per_class` before their spread."""
    if probe != "loss":
        second = _case(kind, probe + "-b", 6)
        second.name = f"{kind}_b"
        return [_case(kind, probe, batch), second]
    sampled = _case(kind, probe, batch, repeats=LOSS_REPEATS)
    constant = _case(kind, probe + "-constant", 6, constant=True)
    mnist = _mnist(root, 6)
    if mnist is not None:
        constant.arrays["x"], constant.arrays["c"] = mnist
        constant.params["mnist"] = True
    constant.name = f"{kind}_constant"
    return [sampled, constant]


def _spread(probe: str, case: Case) -> Case:
    """``case`` with its :data:`SPREAD` entry in ``params["spread"]`` (none when it has none)."""
    key = f"{probe}/{case.name}" + ("/mnist" if case.params.get("mnist") else "")
    if key in SPREAD:
        case.params["spread"] = SPREAD[key]
    return case


def spread_cases(root=None):
    """``(key, case)`` of every case that :data:`SPREAD` holds, before its spread (``tools/spread_cases.py``
    computes SPREAD from them; with ``root``, the MNIST variant of the loss's constant case too)."""
    found = []
    for kind in CLASSES:
        for probe in ("encoder", "decoder", "loss"):
            for case in _unspread(kind, probe, 4, None) + ([] if root is None or probe != "loss" else
                                                            _unspread(kind, probe, 4, root)[1:]):
                found.append((f"{probe}/{case.name}" + ("/mnist" if case.params.get("mnist") else ""), case))
    found += [("sample/labels", _sample_case()), ("generate/digits", _generate_case())]
    return found


#: Per case (``probe/name``), ``{layer: [scales, biases]}`` for fc_mu, fc_logvar (per column) and deconv3: the
#: reference's outputs scaled (mu and logvar std 1, pre-sigmoid 1.5 but in the loss's cases) and centred on their
#: medians over the case's inputs. Computed by ``tools/spread_cases.py``; tests/test_grading_cvae.py checks them.
SPREAD = {
    'encoder/conv': {
        'fc_mu': [[81.037666, 92.015594], [-0.438992, -1.432844]],
        'fc_logvar': [[258.578278, 106.378799], [2.84418, -1.591201]],
        'deconv3': [[17.898327], [0.419515]],
    },
    'encoder/conv_b': {
        'fc_mu': [[149.431641, 66.036018], [-0.247847, 1.201719]],
        'fc_logvar': [[95.623093, 100.642136], [0.78563, 0.187738]],
        'deconv3': [[19.54282], [1.213134]],
    },
    'decoder/conv': {
        'fc_mu': [[75.87056, 167.839279], [0.834013, 1.611155]],
        'fc_logvar': [[266.833801, 106.81163], [-5.300186, -0.226656]],
        'deconv3': [[18.244225], [-2.787477]],
    },
    'decoder/conv_b': {
        'fc_mu': [[107.826263, 104.344688], [1.881451, -1.976216]],
        'fc_logvar': [[162.204681, 96.89962], [3.0756, -0.919888]],
        'deconv3': [[20.402033], [0.066168]],
    },
    'loss/conv': {
        'fc_mu': [[43.035252, 58.386791], [0.399867, -1.913156]],
        'fc_logvar': [[81.131676, 53.078678], [5.329009, -0.236317]],
        'deconv3': [[1.0], [0.048419]],
    },
    'loss/conv_constant': {
        'fc_mu': [[106.447746, 77.424461], [-0.949886, 0.033108]],
        'fc_logvar': [[121.285042, 72.126404], [0.198415, -0.183512]],
        'deconv3': [[1.0], [0.0695]],
    },
    'loss/conv_constant/mnist': {
        'fc_mu': [[433.718842, 126.314186], [-3.111509, 0.499005]],
        'fc_logvar': [[154.912125, 181.236343], [-0.255813, -0.567676]],
        'deconv3': [[1.0], [0.0695]],
    },
    'encoder/cond': {
        'fc_mu': [[178.28215, 492.262787], [-1.693555, 1.146373]],
        'fc_logvar': [[270.129059, 105.42205], [-2.674598, -0.03853]],
        'deconv3': [[30.919945], [0.811975]],
    },
    'encoder/cond_b': {
        'fc_mu': [[79.044373, 64.724892], [-1.328456, -0.318474]],
        'fc_logvar': [[240.281311, 96.461884], [-3.387766, 1.462812]],
        'deconv3': [[37.401524], [1.013377]],
    },
    'decoder/cond': {
        'fc_mu': [[157.446091, 255.279312], [1.024528, -2.520663]],
        'fc_logvar': [[173.995377, 760.25647], [0.467389, -1.916252]],
        'deconv3': [[36.632862], [1.560778]],
    },
    'decoder/cond_b': {
        'fc_mu': [[162.353226, 249.782684], [-0.851599, -0.03979]],
        'fc_logvar': [[143.735916, 143.275818], [-0.365658, -0.196882]],
        'deconv3': [[36.796726], [3.076771]],
    },
    'loss/cond': {
        'fc_mu': [[120.466591, 180.463074], [-2.919245, 0.08062]],
        'fc_logvar': [[153.502441, 106.214188], [-0.850494, -1.620485]],
        'deconv3': [[1.0], [-0.058253]],
    },
    'loss/cond_constant': {
        'fc_mu': [[149.785248, 189.472549], [-0.749387, -0.924288]],
        'fc_logvar': [[151.389969, 114.451958], [0.963339, 1.116539]],
        'deconv3': [[1.0], [-0.06374]],
    },
    'loss/cond_constant/mnist': {
        'fc_mu': [[78.437073, 167.703064], [-0.30736, -1.041713]],
        'fc_logvar': [[97.152664, 117.321907], [0.737652, 1.423027]],
        'deconv3': [[1.0], [-0.065095]],
    },
    'sample/labels': {
        'fc_mu': [[156.481796, 185.579803], [2.042129, -2.703734]],
        'fc_logvar': [[131.675888, 208.153397], [-2.231502, -2.145732]],
        'deconv3': [[32.640312], [3.678554]],
    },
    'generate/digits': {
        'fc_mu': [[198.962158, 82.247772], [-1.327549, 1.649348]],
        'fc_logvar': [[180.772308, 295.380646], [2.029575, 0.868738]],
        'deconv3': [[31.014559], [-2.023353]],
    },
}


def layers_evaluation(kind: str, weights: dict, case: Case):
    """The trusted run of the reference with the weights a student's ``__init__`` made (``weights``: ``w/...``)."""
    return [Case(case.dims, {**case.arrays, **weights}, dict(case.params), name=case.name, sizes=case.sizes)]


SAMPLE_COUNT = 1000


def _sample_case() -> Case:
    rng = _rng("sample")
    c = rng.permutation(np.repeat(np.arange(10), SAMPLE_COUNT // 10)).astype(np.int64)
    return Case((2,), {"c": c}, {"class_name": "ConditionalVAE", "seed": 7 + sum(SALT)}, name="labels",
                sizes={"count": SAMPLE_COUNT})


def sample(root=None):
    """sample(c) for SAMPLE_COUNT labels, every digit SAMPLE_COUNT / 10 times in a shuffled order."""
    return [_spread("sample", _sample_case())]


def _generate_case() -> Case:
    return Case((2,), {}, {"class_name": "ConditionalVAE", "seed": 11 + sum(SALT), "digits": [3, 0, 7, 3], "n": 3},
                name="digits", sizes={"rows": 12})


def generate(root=None):
    """generate(digits, n) with digits in an odd order and a repeat, and n = 3."""
    return [_spread("generate", _generate_case())]


def decoding(case: Case, inputs: np.ndarray):
    """The trusted run of the reference's decoder of ``case``'s model (same seed and spread) on ``inputs`` (rows of
    fc_dec's input recorded in a student's child): what those rows decode to."""
    return [Case(case.dims, {"inputs": np.asarray(inputs, np.float32)}, dict(case.params), name=case.name,
                 sizes={"rows": len(inputs)})]


def training(t, root):
    """The training run of the settings ``t`` (the spec's ``TRAINING``) on the MNIST files under ``root``."""
    params = {"epochs": t.epochs, "images": t.images, "batch_size": t.batch_size, "learning_rate": t.learning_rate,
              "seed": t.seed, "root": str(root), "fused_adam": t.fused_adam, "init": t.init}
    return [Case((2,), {}, params, name="training")]


def evaluation(q, root, weights: dict, seed: int = 0):
    """The trusted evaluation of trained ``weights`` (see ``probes.probe_evaluate``), with the sizes ``q`` (the spec's
    ``CHECKS``)."""
    params = {"root": str(root), "seed": seed, "test_images": q.test_images, "per_digit": q.per_digit,
              "fixed_codes": q.fixed_codes}
    return [Case((2,), dict(weights), params, name="evaluation")]
