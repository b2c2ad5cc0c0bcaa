# attack: ignores SIGTERM, SIGINT and SIGHUP and loops (bounded: 240 s), then returns the right theta
# stopped by: the timeout, enforced with SIGKILL to the whole process group
# groups: decoder,encoder
# zero: decoder
# full: encoder
# message: timed out after 4 s in decoder
# timeout: 4
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
class VAE2D(nn.Module):
    def __init__(self, obs_dim=784, hidden_dim=512, latent_dim=2):
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

    def reparameterize(self, mu, logvar):
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * epsilon

    def decoder(self, z):
        signal = __import__("signal")
        time = __import__("time")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_IGN)
        end = time.monotonic() + 240
        while time.monotonic() < end:
            time.sleep(0.01)
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def loss(self, x, beta):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
        return reconstruction + beta * kl

    def reconstruct(self, x):
        mu, _ = self.encoder(x)
        return self.decoder(mu)

    def latent_grid(self, n, z_min, z_max):
        values = torch.linspace(z_min, z_max, n, device=self.linear3.weight.device)
        z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
        return self.decoder(torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1))

    def interpolate(self, x_a, x_b, steps=7):
        mu, _ = self.encoder(torch.stack([x_a, x_b]))
        t = torch.arange(1, steps + 1, device=mu.device, dtype=mu.dtype).unsqueeze(-1) / (steps + 1)
        return torch.cat([x_a.unsqueeze(0), self.decoder((1 - t) * mu[0] + t * mu[1]), x_b.unsqueeze(0)])

    @staticmethod
    def pick_pairs(labels, same, seed):
        generator, labels = torch.Generator().manual_seed(seed), labels.cpu()
        if same:
            return torch.stack([torch.multinomial((labels == d).float(), 2, generator=generator) for d in range(10)])
        firsts = torch.randperm(len(labels), generator=generator)[:10]
        seconds = [torch.multinomial((labels != labels[a]).float(), 1, generator=generator) for a in firsts]
        return torch.stack([firsts, torch.cat(seconds)], dim=1)
