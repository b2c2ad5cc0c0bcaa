"""Part 2 (seeds 000-002): the latent space of a 2-D VAE with a log-variance encoder (``vae2d.ipynb``)."""
