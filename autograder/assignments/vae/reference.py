"""Torch reference pieces placed around the method under test, inside the child.

When ``elbo`` is graded, the submission's ``encoder``, ``sample_with_reparam``, ``decoder`` and
``kl_divergence`` are replaced by these, so a bug in one of them cannot cost ``elbo`` its points.
They are checked against the grader's numpy oracle by the kit's own tests.
"""
import torch
import torch.nn.functional as F


def encoder(vae, x):
    """(mu, logsigma), each of shape (batch, latent_dim): linear21/linear22 of ReLU(linear1(x))."""
    hidden = F.relu(vae.linear1(x))
    return vae.linear21(hidden), vae.linear22(hidden)


def reparameterize(mu, logsigma, epsilon):
    """z = mu + exp(logsigma) * epsilon, shape (batch, latent_dim) (Kingma & Welling 2014, sec. 2.4)."""
    return mu + logsigma.exp() * epsilon


def decoder(vae, z):
    """theta of shape (batch, obs_dim) in (0, 1): sigmoid(linear4(ReLU(linear3(z))))."""
    return torch.sigmoid(vae.linear4(F.relu(vae.linear3(z))))


def kl_divergence(mu, logsigma):
    """KL(N(mu, diag(exp(logsigma))^2) || N(0, I)), shape (batch,), in nats (via torch.distributions)."""
    q = torch.distributions.Normal(mu, logsigma.exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(-1)


def elbo(vae, x, epsilon):
    """One-sample ELBO of shape (batch,), in nats, with the given noise (Kingma & Welling 2014, eq. 10)."""
    mu, logsigma = encoder(vae, x)
    theta = decoder(vae, reparameterize(mu, logsigma, epsilon))
    log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(-1)
    return log_likelihood - kl_divergence(mu, logsigma)
