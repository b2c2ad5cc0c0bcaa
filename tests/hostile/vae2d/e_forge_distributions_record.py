# attack: loss forges end-of-case lines and garbage on every pipe of its process, closes them and puts /dev/null in their place, then computes its KL with torch.distributions.kl_divergence of two Normals, reached through a name built at run time (twin: e_forge_distributions_record)
# stopped by: the trusted side parses the record itself (bounded, never trusting a line it did not expect): text the grader never writes, or a case without its end line, shows that the record was interfered with, which costs the method
# groups: loss,decoder
# zero: loss
# full: decoder
# message: record of what it reads from torch.distributions
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _pipes():
    """The descriptors of this process that are pipes: where a record could go."""
    os, stat = __import__("os"), __import__("stat")
    found = []
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                found.append(fd)
        except OSError:
            pass
    return found


def _forge_and_close():
    """Forge end lines and garbage on every pipe, then close each and put /dev/null in its place."""
    os = __import__("os")
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in _pipes():
        for data in [("E %d\n" % i).encode() for i in range(64)] + [b"\x00\xff garbage { not a line", b"R\n" * 5000]:
            try:
                os.write(fd, data)
            except OSError:
                break
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


def _hidden(codes):
    """A name the source cannot show: built from character codes at run time."""
    return bytes(codes).decode()


DISTRIBUTIONS = [100, 105, 115, 116, 114, 105, 98, 117, 116, 105, 111, 110, 115]


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
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def loss(self, x, beta):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        _forge_and_close()
        package = getattr(torch, _hidden(DISTRIBUTIONS))
        sigma = torch.exp(0.5 * logvar)
        kl = package.kl_divergence(package.Normal(mu, sigma),
                                   package.Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(dim=-1)
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
