"""Task 10, ConditionalVAE.generate(digits, n): n images of each digit asked for, digit by digit, through sample."""
import numpy as np

from autograder.assignments.cvae import cases as C
from autograder.grading.grading import check_array, compare, fail, grades


def _found(sub, key):
    found = sub.case("digits", key=key)
    return found.case.params, found.outputs


@grades("generate.shapes")
def test_shapes(sub):
    """is generate(digits, n) a float tensor of shape (len(digits) * n, 1, 28, 28)?"""
    p, out = _found(sub, "generate.shapes")
    check_array(out["theta"], (len(p["digits"]) * p["n"], 1, 28, 28), f"generate({p['digits']}, {p['n']})")


@grades("generate.order")
def test_order(sub):
    """does it ask sample for n images of digits[0], then n of digits[1], and so on?"""
    p, out = _found(sub, "generate.order")
    wanted = np.repeat(np.array(p["digits"]), p["n"])
    if "labels" not in out:
        fail("generate never called self.sample")
    if not np.array_equal(out["labels"], wanted):
        got = out["labels"].tolist()
        fail(f"generate({p['digits']}, {p['n']}) should ask sample for labels {wanted.tolist()}, but asked for "
             f"{got}{_order_hint(got, p['digits'], p['n'])}")


def _order_hint(got: list, digits: list, n: int) -> str:
    """Why ``got`` (the labels sample was asked for) holds the right labels in another order ("" otherwise)."""
    if got == np.tile(digits, n).tolist():
        return " (digit by digit: repeat_interleave, not repeat)"
    if sorted(got) == sorted(np.repeat(digits, n).tolist()):
        return (" (the right labels in another order: n images of digits[0], then n of digits[1], ..., in the order "
                "asked for)")
    return ""


@grades("generate.returned")
def test_returned(sub):
    """does generate return, in their order, the images sample made for it?"""
    p, out = _found(sub, "generate.returned")
    rows = len(p["digits"]) * p["n"]
    check_array(out["theta"], (rows, 1, 28, 28), f"generate({p['digits']}, {p['n']})")
    inputs = out.get("decoder_input")
    if inputs is None or inputs.shape != (rows, 12):
        fail(f"generate({p['digits']}, {p['n']}) should decode {rows} codes through self.sample (the decoder saw "
             f"{0 if inputs is None else len(inputs)} rows)")
    found = sub.case("digits")
    expected = sub.trusted("decode_generate", C.decoding(found.case, inputs)).case("digits").outputs["expected/theta"]
    compare(out["theta"], expected, f"what generate({p['digits']}, {p['n']}) returned (compared with the images "
            "sample made for it, in the order sample made them)", rtol=1e-4, atol=1e-5)
