# expect: full marks
# why: layers created in reverse order, then re-initialised (orthogonal weights, small random biases): the methods' tests use the grader's weights, the training run starts from the grader's own

class VAE(nn.Module):

    def __init__(self, obs_dim, latent_dim, hidden_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.linear4 = nn.Linear(hidden_dim, obs_dim)
        self.linear3 = nn.Linear(latent_dim, hidden_dim)
        self.linear22 = nn.Linear(hidden_dim, latent_dim)
        self.linear21 = nn.Linear(hidden_dim, latent_dim)
        self.linear1 = nn.Linear(obs_dim, hidden_dim)
        for layer in self.children():
            nn.init.orthogonal_(layer.weight)
            nn.init.normal_(layer.bias, std=0.01)

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
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        theta = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy(theta, x, reduction='none').sum(dim=-1)
        return log_likelihood - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
