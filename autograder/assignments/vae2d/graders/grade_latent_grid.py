"""Task 6, latent_grid(n, z_min, z_max): the decoder at an evenly spaced n x n grid, row-major as the manifold figure
shows it (z1 increasing along a row, z2 decreasing down the rows); the reference's values."""
from autograder.assignments.vae2d import checks
from autograder.grading import check_array, compare, grades


@grades("latent_grid.shapes")
def test_shapes(sub):
    """is latent_grid(n, z_min, z_max) a float tensor of shape (n * n, obs_dim)?"""
    cases, result = sub.run("latent_grid.shapes")
    for case, out in zip(cases, result.outputs):
        p = case.params
        check_array(out["images"], out["expected/images"].shape, f"latent_grid({p['n']}, {p['z_min']}, {p['z_max']})")


@grades("latent_grid.values")
def test_values(sub):
    """are the images decoded at the grid's points, both ends included, in the figure's order?"""
    cases, result = sub.run("latent_grid.values")
    for case, out in zip(cases, result.outputs):
        p, expected = case.params, out["expected/images"]
        compare(out["images"], expected, f"latent_grid({p['n']}, {p['z_min']}, {p['z_max']})",
                checks.grid_variants(expected, p["n"]))
