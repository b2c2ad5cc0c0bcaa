# attack: replaces builtins.isinstance, len and abs, and json.dumps so that the child's result looks perfect; returns a plain list
# stopped by: the trusted process checks the result file and parses the arrays itself
# groups: decoder,kl_divergence
# zero: decoder,kl_divergence
# message: decoder
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.

class VAE(nn.Module):
    # The attack runs when the class is defined: of a .py, only the classes and what they read run.
    builtins = __import__("builtins")
    _json = __import__("json")
    builtins.isinstance = lambda obj, cls: True
    builtins.abs = lambda value: 0
    _json.dumps = lambda *args, **kwargs: '{"status": "ok", "info": {}, "score": 100}'

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
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        return [[0.5] * 13] * len(z)

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        theta = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        return log_likelihood - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
