"""Part 3 (seed 003): the convolutional VAE and the conditional VAE (``cvae.ipynb``)."""
