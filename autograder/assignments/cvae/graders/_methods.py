"""What the method graders of both classes share: shape checks and comparisons with the reference's values, and the
known mistakes each comparison names (with which part of a joined input is wrong, from what conv1 and fc_dec
received). The judges are :mod:`autograder.sandbox.vae_check`'s (``cvae_encoder``, ``cvae_decoder``,
``cvae_loss``), which the notebook's checks run too."""
from autograder.assignments.cvae import cases as C
from autograder.sandbox import vae_check


def encoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.encoder`` returns (mu, logvar) of the reference's shapes (and, with ``values``, its
    values, on every case of ``key``'s probe): :func:`autograder.sandbox.vae_check.cvae_encoder`."""
    vae_check.cvae_encoder(sub, kind, class_name, values)


def decoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.decoder`` returns theta of shape (batch, 1, 28, 28) in (0, 1) (and, with ``values``,
    the reference's values): :func:`autograder.sandbox.vae_check.cvae_decoder`."""
    vae_check.cvae_decoder(sub, kind, class_name, values)


def loss(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.loss`` returns one value per image (and, with ``values``, the reference's
    reconstruction + KL): :func:`autograder.sandbox.vae_check.cvae_loss`."""
    vae_check.cvae_loss(sub, kind, class_name, values)


def decoded(sub, probe: str):
    """``decoded(found, inputs)``: what the reference decoder makes of the rows of fc_dec's input a student's child
    recorded (``inputs``, z joined to the one-hot label), on the model of ``found``'s case, from a trusted child
    running ``probe`` (the judges of sample and generate compare with it; a notebook's check decodes otherwise)."""
    def decode(found, inputs):
        trusted = sub.trusted(probe, C.decoding(found.case, inputs))
        return trusted.case(found.case.name).outputs["expected/theta"]
    return decode
