# attack: sample_with_reparam takes the real torch.distributions out of the grader's watcher (its closure) and puts it back in sys.modules and torch.distributions, so that its reads of Normal pass no watcher; it also empties the record's lists
# stopped by: after every case the child checks that the watchers are still in place and writes what changed to its record; a changed watcher costs the method
# groups: sample_with_reparam,encoder
# zero: sample_with_reparam
# full: encoder
# message: interferes with the grader's record
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _hidden(codes):
    """A name the source cannot show: built from character codes at run time."""
    return bytes(codes).decode()


DISTRIBUTIONS = [100, 105, 115, 116, 114, 105, 98, 117, 116, 105, 111, 110, 115]


def _unwrap():
    """The real torch.distributions modules, put back where the grader's watchers were; returns the real package."""
    sys = __import__("sys")
    for name, module in list(sys.modules.items()):
        if name.startswith(_hidden(DISTRIBUTIONS), 6):
            for cell in getattr(type(module).__dict__.get("__getattr__"), "__closure__", None) or ():
                try:
                    real = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(real, type(sys)) and real.__name__ == name:
                    sys.modules[name] = real
    package = sys.modules["torch." + _hidden(DISTRIBUTIONS)]
    setattr(torch, _hidden(DISTRIBUTIONS), package)
    return package


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
        return self.linear21(hidden), self.linear22(hidden)

    def sample_with_reparam(self, mu, logsigma):
        return _unwrap().Normal(mu, torch.exp(logsigma)).rsample()

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
