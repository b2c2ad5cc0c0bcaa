# attack: encoder is right on its first call on a model and returns (logsigma, mu) swapped on every later one (the training run, which calls it on one model many times, fails without its own test saying why)
# stopped by: each probe runs its cases a second time in the same child, after the first round (the first round's models reused, without __init__, so that what the method keeps on its model, class or module persists), with other seeds and other inputs, and each test's grader is applied to both rounds
# groups: encoder,decoder
# zero: encoder.values
# full: encoder.shapes,decoder
# message: On a second call
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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
        hidden = F.relu(self.linear1(x))
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls > 1:
            return self.linear22(hidden), self.linear21(hidden)
        return self.linear21(hidden), self.linear22(hidden)

    def sample_with_reparam(self, mu, logsigma):
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        theta = self.decoder(self.sample_with_reparam(mu, logsigma))
        log_px = (x * torch.log(theta + 1e-10) + (1 - x) * torch.log(1 - theta + 1e-10)).sum(dim=-1)
        return log_px - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
