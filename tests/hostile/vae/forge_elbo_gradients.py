# attack: computes the right ELBO values detached from the graph, and monkeypatches torch.autograd.grad so that its gradients and the reference's are equal zeros
# stopped by: the expected gradients come from a separate child that runs no student code, never from the student's child
# groups: elbo
# zero: elbo.gradients
# full: elbo.shapes,elbo.point_mass,elbo.sampled
# message: gradient of the ELBO
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _same_for_everyone(outputs, inputs, *args, **kwargs):
    return tuple(torch.zeros_like(i) for i in inputs)


class VAE(nn.Module):
    # The attack runs when the class is defined: of a .py, only the classes and what they read run.
    torch.autograd.grad = _same_for_everyone

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
        with torch.no_grad():
            mu, logsigma = self.encoder(x)
            z = self.sample_with_reparam(mu, logsigma)
            theta = self.decoder(z)
            log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
            value = log_likelihood - self.kl_divergence(mu, logsigma)
        return value.clone().requires_grad_(True)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
