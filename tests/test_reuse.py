"""Results of trusted children kept between the corpus's gradings (autograder/processes/reuse.py)."""
import numpy as np
import pytest

from autograder import config
from autograder.core.assignment import load
from autograder.core.cases import Case, ProbeResult
from autograder.processes import forking, reuse, runner


@pytest.fixture
def children(monkeypatch):
    """Every run_child call, answered with a fresh result (no process started)."""
    calls = []

    def fake(source, probe, cases, *args, **kwargs):
        calls.append((source, probe))
        return ProbeResult([{"out": np.full(2, float(len(calls)))} for _ in cases], [{"n": len(calls)}] * len(cases),
                           list(cases))

    monkeypatch.setattr(runner, "run_child", fake)
    return calls


def _run(source, cases, probe="expected_encoder"):
    assignment = load("vae2d")
    return runner.run_probe(source, probe, cases, "encoder", 10.0, seed=0, assignment=assignment)


def _cases(value=0.0):
    return [Case((784, 2), {"x": np.full((3, 4), value, dtype=np.float32)}, {"k": 1}, name="one")]


def test_a_trusted_child_asked_the_same_twice_runs_once_inside_reusing(children):
    """Inside reusing(), is a trusted child asked the same thing again answered from the kept result (a copy the
    caller may change), and does anything that differs (an array's value, the seed) start a new child?"""
    with reuse.reusing():
        first = _run(None, _cases())
        first.outputs[0]["out"][:] = -1  # a grader changing what it got changes nothing kept
        again = _run(None, _cases())
        other = _run(None, _cases(1.0))
    assert len(children) == 2
    assert again.outputs[0]["out"].tolist() == [1.0, 1.0] and again.info == [{"n": 1}]
    assert other.outputs[0]["out"].tolist() == [2.0, 2.0]
    key = reuse.key(load("vae2d"), "expected_encoder", _cases(), 0, config.LIMITS, None)
    assert key != reuse.key(load("vae2d"), "expected_encoder", _cases(), 1, config.LIMITS, None)
    assert key != reuse.key(load("vae2d"), "expected_decoder", _cases(), 0, config.LIMITS, None)


def test_nothing_is_kept_outside_reusing_or_for_student_code(children):
    """Outside reusing() (a student's grading), and for any child that runs student code, does every call start
    its own child?"""
    _run(None, _cases())
    _run(None, _cases())
    with reuse.reusing():
        _run("class VAE2D: pass", _cases(), probe="latent_grid")
        _run("class VAE2D: pass", _cases(), probe="latent_grid")
    student = [probe for source, probe in children if source is not None]
    trusted = [probe for source, probe in children if source is None]
    assert student == ["latent_grid", "latent_grid"]
    assert trusted == ["expected_encoder", "expected_encoder", "expected_latent_grid"]  # the last kept once
    assert not reuse.active()


def test_the_corpus_server_keeps_results_and_forgets_them_after(monkeypatch):
    """Does shared_fork_server (the corpus's gradings) keep trusted results, and forget them when it ends?"""
    monkeypatch.setattr(forking, "fork_server", lambda limits: _null())
    with forking.shared_fork_server():
        assert reuse.active()
    assert not reuse.active()


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
