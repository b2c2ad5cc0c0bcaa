# attack: ConvVAE.loss forges end-of-case lines and garbage on every pipe of its process, closes them and puts /dev/null in their place, then computes its KL with torch.distributions.kl_divergence of two Normals, reached through a name built at run time (twin: e_forge_distributions_record)
# stopped by: the trusted side parses the record itself (bounded, never trusting a line it did not expect): text the grader never writes, or a case without its end line, shows that the record was interfered with, which costs the method
# groups: conv_loss,conv_decoder
# zero: conv_loss
# full: conv_decoder
# message: record of what it reads from torch.distributions
# Hostile fixture of tests/test_hostile.py, Part 3 (graded with --assignment cvae): every loop, allocation,
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


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=2):
        super().__init__()
        self.latent_dim = latent_dim
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 14)
        self.fc_mu = nn.Linear(14, latent_dim)
        self.fc_logvar = nn.Linear(14, latent_dim)
        self.fc_dec = nn.Linear(latent_dim, 64 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 64, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.deconv2 = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.deconv3 = nn.ConvTranspose2d(32, 1, kernel_size=3, stride=1, padding=1)

    def encoder(self, x):
        hidden = F.relu(self.conv2(F.relu(self.conv1(x))))
        hidden = F.relu(self.fc(hidden.flatten(start_dim=1)))
        return self.fc_mu(hidden), self.fc_logvar(hidden)

    def reparameterize(self, mu, logvar):
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decoder(self, z):
        hidden = F.relu(self.fc_dec(z)).view(-1, 64, 7, 7)
        return torch.sigmoid(self.deconv3(F.relu(self.deconv2(F.relu(self.deconv1(hidden))))))

    def loss(self, x):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").flatten(start_dim=1).sum(dim=-1)
        _forge_and_close()
        package = getattr(torch, _hidden(DISTRIBUTIONS))
        kl = package.kl_divergence(package.Normal(mu, torch.exp(0.5 * logvar)),
                                   package.Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(dim=-1)
        return reconstruction + kl


class ConditionalVAE(ConvVAE):
    num_classes = 10

    def __init__(self, latent_dim=2):
        super().__init__(latent_dim)
        self.conv1 = nn.Conv2d(1 + self.num_classes, 32, kernel_size=3, stride=2, padding=1)
        self.fc_dec = nn.Linear(latent_dim + self.num_classes, 64 * 7 * 7)

    def encoder(self, x, c):
        planes = F.one_hot(c, self.num_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, 28, 28)
        return super().encoder(torch.cat([x, planes], dim=1))

    def decoder(self, z, c):
        return super().decoder(torch.cat([z, F.one_hot(c, self.num_classes).to(z.dtype)], dim=1))

    def loss(self, x, c):
        mu, logvar = self.encoder(x, c)
        theta = self.decoder(self.reparameterize(mu, logvar), c)
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").flatten(start_dim=1).sum(dim=-1)
        return reconstruction + 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)

    def sample(self, c):
        z = torch.randn(len(c), self.latent_dim, device=c.device)
        return self.decoder(z, c)

    def generate(self, digits, n):
        labels = torch.as_tensor(digits, dtype=torch.long, device=self.fc_dec.weight.device)
        return self.sample(labels.repeat_interleave(n))
