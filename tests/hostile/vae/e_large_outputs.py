# attack: every method but elbo returns a 10 MB tensor (2.6 million float32, whatever the inputs), so that the trusted process, which kept every probe's outputs until the end, holds hundreds of MB (a real submission of this kind took the grader to 671 MB of Gradescope's 768 MB)
# stopped by: one call (one case of a probe, in one round) may return at most config.LIMITS.case_output_mb (8 MB): the child refuses more, and the trusted side checks the archive's directory before reading anything; arrays are parsed without copies, and the trusted process forgets a probe's arrays as soon as no test still to run grades them
# groups: encoder,sample_with_reparam,decoder,kl_divergence,elbo,sample
# zero: encoder,sample_with_reparam,decoder,kl_divergence,sample
# full: elbo
# message: more than the 8 MB the grader accepts for one call
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _big(like):
    """10 MB of float32 that depend on ``like`` (so that gradients reach it)."""
    return torch.zeros(2621440, dtype=torch.float32, device=like.device) + 0 * like.sum()


class VAE(nn.Module):
    def __init__(self, obs_dim, latent_dim, hidden_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.linear1 = nn.Linear(obs_dim, hidden_dim)
        self.linear21 = nn.Linear(hidden_dim, latent_dim)
        self.linear22 = nn.Linear(hidden_dim, latent_dim)
        self.linear3 = nn.Linear(latent_dim, hidden_dim)
        self.linear4 = nn.Linear(hidden_dim, obs_dim)

    def encoder(self, x):
        return _big(x), _big(x)

    def sample_with_reparam(self, mu, logsigma):
        return _big(mu) + 0 * _big(logsigma)

    def decoder(self, z):
        return _big(z)

    def kl_divergence(self, mu, logsigma):
        return _big(mu)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        theta = self.decoder(self.sample_with_reparam(mu, logsigma))
        log_px = (x * torch.log(theta + 1e-10) + (1 - x) * torch.log(1 - theta + 1e-10)).sum(dim=-1)
        return log_px - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        return _big(torch.zeros(num_samples))
