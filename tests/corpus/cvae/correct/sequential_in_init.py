# expect: full marks
# why: the convolutions wrapped in nn.Sequential blocks built in __init__ around the notebook's layers (rebuilt by the
# why: ConditionalVAE once it widens conv1), called by the encoder and decoder

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
        self.build_blocks()

    def build_blocks(self):
        self.features = nn.Sequential(self.conv1, nn.ReLU(), self.conv2, nn.ReLU(), nn.Flatten(), self.fc, nn.ReLU())
        self.upsample = nn.Sequential(self.deconv1, nn.ReLU(), self.deconv2, nn.ReLU(), self.deconv3, nn.Sigmoid())

    def encoder(self, x):
        hidden = self.features(x)
        return self.fc_mu(hidden), self.fc_logvar(hidden)

    def reparameterize(self, mu, logvar):
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decoder(self, z):
        return self.upsample(F.relu(self.fc_dec(z)).view(-1, 64, 7, 7))

    def loss(self, x):
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        t = theta.view(len(x), -1)
        xs = x.view(len(x), -1)
        log_p = xs * torch.log(t.clamp(min=1e-7)) + (1 - xs) * torch.log((1 - t).clamp(min=1e-7))
        kl = 0.5 * (logvar.exp() + mu * mu - 1 - logvar).sum(1)
        return -log_p.sum(1) + kl


class ConditionalVAE(ConvVAE):
    num_classes = 10  # the digits 0-9

    def __init__(self, latent_dim=2):
        super().__init__(latent_dim)
        self.conv1 = nn.Conv2d(1 + self.num_classes, 32, kernel_size=3, stride=2, padding=1)
        self.fc_dec = nn.Linear(latent_dim + self.num_classes, 64 * 7 * 7)
        self.build_blocks()

    def encoder(self, x, c):
        planes = F.one_hot(c, self.num_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, 28, 28)
        return super().encoder(torch.cat([x, planes], dim=1))

    def decoder(self, z, c):
        return super().decoder(torch.cat([z, F.one_hot(c, self.num_classes).to(z.dtype)], dim=1))

    def loss(self, x, c):
        mu, logvar = self.encoder(x, c)
        theta = self.decoder(self.reparameterize(mu, logvar), c).flatten(1)
        target = x.flatten(1)
        nll = -(target * theta.clamp(min=1e-7).log() + (1 - target) * (1 - theta).clamp(min=1e-7).log()).sum(1)
        return nll + 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1)

    def sample(self, c):
        z = torch.randn(len(c), self.latent_dim, device=c.device)
        return self.decoder(z, c)

    def generate(self, digits, n):
        labels = torch.as_tensor(digits, dtype=torch.long, device=self.fc_dec.weight.device)
        return self.sample(labels.repeat_interleave(n))
