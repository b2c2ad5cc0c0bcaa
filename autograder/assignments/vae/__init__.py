"""Part 1 (seed 004): the VAE of the course handout, with a log-standard-deviation encoder (``vae.ipynb``)."""
