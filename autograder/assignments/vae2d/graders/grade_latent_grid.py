"""Task 6, latent_grid(n, z_min, z_max): the decoder at an evenly spaced n x n grid, row-major as the manifold figure
shows it (z1 increasing along a row, z2 decreasing down the rows); the reference's values."""
import numpy as np

from autograder.assignments.vae2d import checks
from autograder.grading.grading import check_array, compare, fail, grades


@grades("latent_grid.shapes")
def test_shapes(sub):
    """is latent_grid(n, z_min, z_max) a float tensor of shape (n * n, obs_dim)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        p = case.params
        call = f"latent_grid({p['n']}, {p['z_min']:g}, {p['z_max']:g})"
        if out["images"].ndim == 2 and len(out["images"]) in ((p["n"] + 1) ** 2, (p["n"] - 1) ** 2):
            fail(f"{call} should return {p['n']} x {p['n']} = {p['n'] ** 2} images, but returns "
                 f"{len(out['images'])}: {round(np.sqrt(len(out['images'])))} values per axis. A floating-point "
                 "torch.arange step gains or loses a value by round-off at some n; the n values of each axis are "
                 "torch.linspace(z_min, z_max, n).")
        check_array(out["images"], out["expected/images"].shape, call)


@grades("latent_grid.values")
def test_values(sub):
    """are the images decoded at the grid's points, both ends included, in the figure's order?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        p, expected = case.params, out["expected/images"]
        compare(out["images"], expected, f"latent_grid({p['n']}, {p['z_min']}, {p['z_max']})",
                checks.grid_variants(expected, p["n"]) + [_short_of_z_max(case.arrays, p["n"], p["z_min"], p["z_max"])])


def _short_of_z_max(weights, n: int, low: float, high: float) -> tuple:
    """The mistake of n points from z_min in steps of (z_max - z_min) / n, which stop short of z_max
    (torch.arange(z_min, z_max, step), linspace(z_min, z_max, n + 1)[:-1]), in the figure's order."""
    values = low + (high - low) * np.arange(n) / n
    z = np.stack([np.tile(values, n), np.repeat(values[::-1], n)], axis=-1)
    return (f"Your grid leaves z_max out: both ends are included, the n values of each axis are "
            f"torch.linspace(z_min, z_max, n).", checks.sigmoid(checks.decode_logits(weights, z)))
