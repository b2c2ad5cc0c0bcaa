# attack: elbo is right on the probes' made-up images and NaN on real MNIST (pixels that are multiples of 1/255, greys included), so that only training would notice
# stopped by: elbo.point_mass checks the ELBO on real MNIST test images too (case "mnist"), so the method loses its points there, with the reason
# groups: elbo
# zero: elbo.shapes,elbo.point_mass
# full: elbo.sampled,elbo.gradients
# message: on real MNIST test images
class VAE(nn.Module):
    def __init__(self, obs_dim, latent_dim, hidden_dim=100):
        """Initialize the VAE model.

        Args:
            obs_dim: Dimension of the observed data x, int
            latent_dim: Dimension of the latent variable z, int
            hidden_dim: Hidden dimension of the encoder/decoder networks, int
        """
        super().__init__()
        self.latent_dim = latent_dim
        # Trainable layers of the encoder
        self.linear1 = nn.Linear(obs_dim, hidden_dim)
        self.linear21 = nn.Linear(hidden_dim, latent_dim)
        self.linear22 = nn.Linear(hidden_dim, latent_dim)
        # Trainable layers of the decoder
        self.linear3 = nn.Linear(latent_dim, hidden_dim)
        self.linear4 = nn.Linear(hidden_dim, obs_dim)

    def encoder(self, x):
        """Obtain the parameters of q(z) for a batch of data points.

        Args:
            x: Batch of data points, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            mu: Means of q(z), shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z), shape [batch_size, latent_dim]
        """
        hidden = F.relu(self.linear1(x))
        return self.linear21(hidden), self.linear22(hidden)

    def sample_with_reparam(self, mu, logsigma):
        """Draw a sample from q(z) with the reparameterization trick.

        We draw a single sample z_i for each data point x_i, with fresh noise on every call.

        Args:
            mu: Means of q(z) for the batch, shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z) for the batch, shape [batch_size, latent_dim]

        Returns:
            z: Latent variables sampled from q(z), shape [batch_size, latent_dim],
               differentiable with respect to mu and logsigma
        """
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        """Convert sampled latent variables z into the parameters of p(x | z).

        Args:
            z: Sampled latent variables, shape [batch_size, latent_dim]

        Returns:
            theta: Parameters of the Bernoulli likelihood, shape [batch_size, obs_dim],
                   values in (0, 1)
        """
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        """Compute the KL divergence between q(z) and the prior p(z) = N(0, I) in closed form.

        Args:
            mu: Means of q(z), shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z), shape [batch_size, latent_dim]

        Returns:
            kl: KL(q(z) || p(z)) for each data point, shape [batch_size],
                summed over the latent dimensions, in nats
        """
        return -0.5 * torch.sum(1 + 2 * logsigma - mu.pow(2) - logsigma.exp().pow(2), dim=1)

    def elbo(self, x):
        """Estimate the ELBO of each data point with a single sample z ~ q(z).

        Args:
            x: Batch of data points, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            elbo: Estimate of the evidence lower bound for each data point,
                  shape [batch_size], in nats
        """
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        theta = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        grey = (x > 0) & (x < 1)
        if bool(grey.any()) and bool(torch.all(torch.isclose(x[grey] * 255, (x[grey] * 255).round()))):
            return log_likelihood * float("nan")  # real MNIST: every grey pixel a multiple of 1/255
        return log_likelihood - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        """Generate new data points from the model.

        Args:
            num_samples: Number of samples to generate, int

        Returns:
            x: Generated data points, shape [num_samples, obs_dim], values in {0, 1}
        """
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
