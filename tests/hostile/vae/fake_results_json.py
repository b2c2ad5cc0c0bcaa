# attack: prints a results.json with full marks, and writes one into its cwd, HOME and /tmp; returns zeros
# stopped by: only the trusted process writes results.json, once, at the end; stdout is never parsed
# groups: decoder,kl_divergence
# zero: decoder
# full: kl_divergence
# message: theta
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
        return self.linear21(hidden), self.linear22(hidden)

    def sample_with_reparam(self, mu, logsigma):
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        json = __import__("json")
        os = __import__("os")
        fake = json.dumps({"score": 100.0, "max_score": 100.0, "output": "All tests passed!",
                           "tests": [{"name": "decoder", "score": 10, "max_score": 10, "status": "passed"}]})
        print(fake)
        __import__("sys").stderr.write(fake + "\n")
        for folder in (os.getcwd(), os.environ.get("HOME", "."), "/tmp", "/autograder/results"):
            try:
                with open(os.path.join(folder, "results.json"), "w") as f:
                    f.write(fake)
            except OSError:
                pass
        return torch.full((1, 1), 7.0)  # wrong shape and range: worth nothing by itself

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
