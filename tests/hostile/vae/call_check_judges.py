# attack: its kl_divergence computes nothing itself: it looks for the notebook checks' module (vae_check) in its child, in sys.modules and as a file of the runtime folder, and uses the numpy KL of the checks' judges (Part 2's KL mistakes hold Part 1's right KL: logvar read as a log standard deviation)
# stopped by: the children's vae_check.py holds only the probes' helpers (autograder/processes/runtime.py, child_source): no judge, no stand-in of a check, in memory or on disk
# groups: encoder,kl_divergence
# zero: kl_divergence
# full: encoder
# message: kl_divergence raised LookupError
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
        return mu + torch.exp(logsigma) * torch.randn_like(mu)

    def decoder(self, z):
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        sys = __import__("sys")
        os = __import__("os")
        found = [vars(m) for n, m in list(sys.modules.items()) if n.endswith("vae_check")]
        for module in [m for n, m in list(sys.modules.items()) if n in ("probing", "vae_check")]:
            path = os.path.join(os.path.dirname(module.__file__), "vae_check.py")
            if os.path.exists(path):
                namespace = {"__name__": "stolen"}
                exec(compile(open(path).read(), path, "exec"), namespace)
                found.append(namespace)
        helper = next((n["_kl_mistakes"] for n in found if "_kl_mistakes" in n), None)
        if helper is None:
            raise LookupError("no KL of the checks' judges here")
        out = {"expected/kl": np.zeros(len(mu)), "expected/mu": mu.detach().cpu().numpy(),
               "expected/logvar": logsigma.detach().cpu().numpy()}
        return torch.as_tensor(helper(out)[0][1], dtype=mu.dtype)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        bce = F.binary_cross_entropy(self.decoder(z), x, reduction="none").sum(-1)
        return -bce - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
