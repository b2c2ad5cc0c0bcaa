# attack: sleeps (bounded here: 240 s), then returns the right theta
# stopped by: the wall-clock timeout
# groups: conv_decoder,conv_encoder
# zero: conv_decoder
# full: conv_encoder
# message: timed out after 4 s in conv_decoder
# timeout: 4
# Hostile fixture of tests/test_hostile.py, Part 3 (graded with --assignment cvae): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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
        __import__("time").sleep(240)
        hidden = F.relu(self.fc_dec(z)).view(-1, 64, 7, 7)
        hidden = F.relu(self.deconv2(F.relu(self.deconv1(hidden))))
        return torch.sigmoid(self.deconv3(hidden))

    def loss(self, x):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").flatten(start_dim=1).sum(dim=-1)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
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
