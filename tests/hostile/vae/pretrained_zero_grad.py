# attack: VAE.__init__ loads weights trained elsewhere (here, values stored in its source, drawn from its own seed: any weights that are not the grader's), and its elbo has a zero gradient, so that Adam would leave the checkpoint in place and the trained model would be the student's, not what the elbo learned
# stopped by: the training run starts from the grader's own weights, copied into the student's layers after its __init__ (probing.start_from), and fails when training did not move them (grading.check_moved)
# groups: training
# zero: training
# message: training did not change any of your model's weights
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
        stored = torch.Generator().manual_seed(20240601)  # stands for a checkpoint kept in the source
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(0.05 * torch.randn(p.shape, generator=stored))

    def encoder(self, x):
        hidden = F.relu(self.linear1(x))
        return (self.linear21(hidden), self.linear22(hidden))

    def sample_with_reparam(self, mu, logsigma):
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        with torch.no_grad():  # the right value, and no gradient: Adam leaves the weights where __init__ put them
            mu, logsigma = self.encoder(x)
            theta = self.decoder(self.sample_with_reparam(mu, logsigma))
            log_likelihood = -F.binary_cross_entropy(theta, x, reduction='none').sum(dim=-1)
            value = log_likelihood - self.kl_divergence(mu, logsigma)
        return value + 0.0 * sum(p.sum() for p in self.parameters())

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
