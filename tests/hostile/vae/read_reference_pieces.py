# attack: looks for the grader's reference pieces (sys.modules, the runtime folder, its scratch folder) and uses reference.elbo with the grader's own noise
# stopped by: children that run student code never get reference.elbo: the reference gradients come from a child that runs no student code
# groups: elbo,kl_divergence
# zero: elbo
# full: kl_divergence
# message: elbo raised LookupError
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
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        sys = __import__("sys")
        os = __import__("os")
        reference = sys.modules.get("reference")
        if reference is None or not hasattr(reference, "elbo"):
            folders = [os.getcwd(), os.path.dirname(next(m for n, m in sys.modules.items() if n.startswith("probes")).__file__)]
            for folder in folders:
                path = os.path.join(folder, "reference.py")
                if os.path.exists(path):
                    namespace = {}
                    exec(open(path).read(), namespace)
                    if "elbo" in namespace:
                        reference = type("R", (), {"elbo": staticmethod(namespace["elbo"])})
                        break
        if reference is None or not hasattr(reference, "elbo"):
            raise LookupError("no reference.elbo anywhere")
        closure = self.sample_with_reparam.__closure__ or ()
        epsilon = next(c.cell_contents for c in closure if isinstance(c.cell_contents, torch.Tensor))
        return reference.elbo(self, x, epsilon)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
