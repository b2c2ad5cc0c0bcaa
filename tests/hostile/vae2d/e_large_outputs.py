# attack: every method but loss and pick_pairs returns a 10 MB tensor (2.6 million float32, whatever the inputs), so that the trusted process, which kept every probe's outputs until the end, holds hundreds of MB (twin: e_large_outputs)
# stopped by: one call may return at most config.LIMITS.case_output_mb (8 MB): the child refuses more, and the trusted side checks the archive's directory before reading anything; the trusted process forgets a probe's arrays as soon as no test still to run grades them
# groups: encoder,reparameterize,decoder,loss,reconstruct,latent_grid,interpolate,pick_pairs
# zero: encoder,reparameterize,decoder,reconstruct,latent_grid,interpolate
# full: loss,pick_pairs
# message: more than the 8 MB the grader accepts for one call
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _big(like):
    """10 MB of float32 that depend on ``like`` (so that gradients reach it)."""
    return torch.zeros(2621440, dtype=torch.float32, device=like.device) + 0 * like.sum()


class VAE2D(nn.Module):
    def __init__(self, obs_dim=784, hidden_dim=512, latent_dim=2):
        super().__init__()
        self.latent_dim = latent_dim
        self.linear1 = nn.Linear(obs_dim, hidden_dim)
        self.linear21 = nn.Linear(hidden_dim, latent_dim)
        self.linear22 = nn.Linear(hidden_dim, latent_dim)
        self.linear3 = nn.Linear(latent_dim, hidden_dim)
        self.linear4 = nn.Linear(hidden_dim, obs_dim)

    def encoder(self, x):
        return _big(x), _big(x)

    def reparameterize(self, mu, logvar):
        return _big(mu) + 0 * _big(logvar)

    def decoder(self, z):
        return _big(z)

    def loss(self, x, beta):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
        return reconstruction + beta * kl

    def reconstruct(self, x):
        return _big(x)

    def latent_grid(self, n, z_min, z_max):
        return _big(self.linear3.weight)

    def interpolate(self, x_a, x_b, steps=7):
        return _big(x_a)

    @staticmethod
    def pick_pairs(labels, same, seed):
        generator, labels = torch.Generator().manual_seed(seed), labels.cpu()
        if same:
            return torch.stack([torch.multinomial((labels == d).float(), 2, generator=generator) for d in range(10)])
        firsts = torch.randperm(len(labels), generator=generator)[:10]
        seconds = [torch.multinomial((labels != labels[a]).float(), 1, generator=generator) for a in firsts]
        return torch.stack([firsts, torch.cat(seconds)], dim=1)
