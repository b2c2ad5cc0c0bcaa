"""A stand-in for seaborn, used only to run the course handout's notebook in the kit's tests: its first cell
imports seaborn for the handout's own plotting helpers, which this kit's vae_utils replaces (matplotlib only)."""
