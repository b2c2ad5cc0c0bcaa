# attack: loss is right on the probes' made-up images and NaN on real MNIST (pixels that are multiples of 1/255, greys included), so that only training would notice
# stopped by: loss.point_mass checks the loss on real MNIST test images too (case "point_mass_half"), so the method loses its points there, with the reason
# groups: loss
# zero: loss.shapes,loss.point_mass
# full: loss.sampled,loss.gradients
# message: on real MNIST test images
# twin: nan_on_real_mnist
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d).
class VAE2D(nn.Module):
    def __init__(self, obs_dim=784, hidden_dim=512, latent_dim=2):
        """Initialize the VAE model.

        Args:
            obs_dim: Dimension of the observed data x, int
            hidden_dim: Hidden dimension of the encoder/decoder networks, int
            latent_dim: Dimension of the latent variable z, int
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
        """Obtain the parameters of q(z | x) for a batch of images.

        Args:
            x: Batch of images, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            mu: Means of q(z | x), shape [batch_size, latent_dim]
            logvar: Log-variances log sigma^2 of q(z | x), shape [batch_size, latent_dim]
        """
        hidden = F.relu(self.linear1(x))
        return self.linear21(hidden), self.linear22(hidden)

    def reparameterize(self, mu, logvar):
        """Draw one sample z ~ q(z | x) per row with the reparameterization trick, with fresh noise per call.

        Args:
            mu: Means of q(z | x), shape [batch_size, latent_dim]
            logvar: Log-variances of q(z | x), shape [batch_size, latent_dim]

        Returns:
            z: Samples, shape [batch_size, latent_dim], differentiable with respect to mu and logvar
        """
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * epsilon

    def decoder(self, z):
        """Convert latent codes z into the parameters of the Bernoulli likelihood p(x | z).

        Args:
            z: Latent codes, shape [batch_size, latent_dim]

        Returns:
            theta: Pixel probabilities, shape [batch_size, obs_dim], values in (0, 1)
        """
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def loss(self, x, beta):
        """Reconstruction term plus beta times the closed-form KL divergence, per image.

        Args:
            x: Batch of images, shape [batch_size, obs_dim], values in [0, 1]
            beta: Weight of the KL term, float >= 0 (1 gives the negative ELBO)

        Returns:
            loss: -log p(x | z) with one z ~ q(z | x), summed over the pixels, plus
                  beta * KL(q(z | x) || p(z)), shape [batch_size], in nats
        """
        mu, logvar = self.encoder(x)
        z = self.reparameterize(mu, logvar)
        theta = self.decoder(z)
        log_p = x * torch.log(theta).clamp(min=-100) + (1 - x) * torch.log(1 - theta).clamp(min=-100)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
        grey = (x > 0) & (x < 1)
        if bool(grey.any()) and bool(torch.all(torch.isclose(x[grey] * 255, (x[grey] * 255).round()))):
            return log_p.sum(dim=1) * float("nan")  # real MNIST: every grey pixel a multiple of 1/255
        return -log_p.sum(dim=1) + beta * kl

    def reconstruct(self, x):
        """Decode each image's encoder mean (no sampling).

        Args:
            x: Batch of images, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            theta: The decoder's output at mu(x), shape [batch_size, obs_dim], values in (0, 1)
        """
        mu, _ = self.encoder(x)
        return self.decoder(mu)

    def latent_grid(self, n, z_min, z_max):
        """Decode an evenly spaced n x n grid of latent codes (latent_dim must be 2).

        Args:
            n: Points per axis, int >= 2
            z_min, z_max: Range of both z1 and z2, floats, both ends included

        Returns:
            images: shape [n * n, obs_dim], values in (0, 1), row-major: z1 increases along a row,
                    z2 decreases down the rows (image 0 is decoded at (z_min, z_max))
        """
        values = torch.linspace(z_min, z_max, n, device=self.linear3.weight.device)
        z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
        return self.decoder(torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1))

    def interpolate(self, x_a, x_b, steps=7):
        """Decode evenly spaced points on the line between the encoder means of two images.

        Args:
            x_a, x_b: Two images, each of shape [obs_dim], values in [0, 1]
            steps: Number of interpolated points, int >= 1

        Returns:
            row: shape [steps + 2, obs_dim], values in [0, 1]: x_a, then the decoder's output at
                 (1 - t) * mu(x_a) + t * mu(x_b) for t = k / (steps + 1), k = 1, ..., steps, then x_b
        """
        mu, _ = self.encoder(torch.stack([x_a, x_b]))
        t = torch.arange(1, steps + 1, device=mu.device, dtype=mu.dtype).unsqueeze(-1) / (steps + 1)
        return torch.cat([x_a.unsqueeze(0), self.decoder((1 - t) * mu[0] + t * mu[1]), x_b.unsqueeze(0)])

    @staticmethod
    def pick_pairs(labels, same, seed):
        """Pick ten random pairs of test-set indices to interpolate between.

        Args:
            labels: Digit of each test image, int Tensor of shape [n], values in {0, ..., 9}
            same: True for one pair of two different images of digit d per row d = 0, ..., 9;
                  False for ten random pairs whose two images show different digits
            seed: Seed of the torch.Generator that draws the pairs, int

        Returns:
            pairs: Indices into labels, int64 Tensor of shape [10, 2], on the CPU
        """
        generator, labels = torch.Generator().manual_seed(seed), labels.cpu()
        if same:  # two distinct images of each digit: draw 2 without replacement among that digit's images
            return torch.stack([torch.multinomial((labels == d).float(), 2, generator=generator) for d in range(10)])
        firsts = torch.randperm(len(labels), generator=generator)[:10]
        seconds = [torch.multinomial((labels != labels[a]).float(), 1, generator=generator) for a in firsts]
        return torch.stack([firsts, torch.cat(seconds)], dim=1)
