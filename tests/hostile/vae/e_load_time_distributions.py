# attack: reads torch.distributions.Normal while the submission is loaded (in its class body), outside any method, through a name the source cannot show (built from character codes at run time), and uses it in sample_with_reparam: the static rules cannot see the name, and no method was running when it was read
# stopped by: what the submission reads from the watched modules while it is loaded comes back wrapped, and each call of it from a method is recorded on the trusted side's pipe and charged to that method
# groups: sample_with_reparam,encoder
# zero: sample_with_reparam
# full: encoder
# message: uses torch.distributions
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
class VAE(nn.Module):
    # read while the class body runs (at load time), through names built from character codes at run time
    NORMAL = getattr(getattr(torch, bytes([100, 105, 115, 116, 114, 105, 98, 117, 116, 105, 111, 110, 115]).decode()),
                     bytes([78, 111, 114, 109, 97, 108]).decode())

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
        return self.linear21(hidden), self.linear22(hidden)

    def sample_with_reparam(self, mu, logsigma):
        return self.NORMAL(mu, torch.exp(logsigma)).rsample()

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
