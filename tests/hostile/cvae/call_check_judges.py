# attack: ConvVAE.loss computes nothing itself: it looks for the notebook checks' module (vae_check) in its child, in sys.modules and as a file of the runtime folder, and returns the checks' judges' numpy reconstruction term and KL (cvae_terms) of its own mu, logvar and theta
# stopped by: the children's vae_check.py holds only the probes' helpers (autograder/processes/runtime.py, child_source): no judge, no stand-in of a check, in memory or on disk
# groups: conv_loss,conv_encoder
# zero: conv_loss
# full: conv_encoder
# message: loss raised LookupError
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
        hidden = F.relu(self.fc_dec(z)).view(-1, 64, 7, 7)
        hidden = F.relu(self.deconv2(F.relu(self.deconv1(hidden))))
        return torch.sigmoid(self.deconv3(hidden))

    def loss(self, x):
        sys = __import__("sys")
        os = __import__("os")
        found = [vars(m) for n, m in list(sys.modules.items()) if n.endswith("vae_check")]
        for module in [m for n, m in list(sys.modules.items()) if n in ("probing", "vae_check")]:
            path = os.path.join(os.path.dirname(module.__file__), "vae_check.py")
            if os.path.exists(path):
                namespace = {"__name__": "stolen"}
                exec(compile(open(path).read(), path, "exec"), namespace)
                found.append(namespace)
        terms = next((n["cvae_terms"] for n in found if "cvae_terms" in n), None)
        if terms is None:
            raise LookupError("no loss of the checks' judges here")
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        as_numpy = [t.detach().cpu().numpy() for t in (x, theta, mu, logvar)]
        reconstruction, kl = terms(*as_numpy)
        return torch.as_tensor(reconstruction + kl, dtype=mu.dtype)


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
