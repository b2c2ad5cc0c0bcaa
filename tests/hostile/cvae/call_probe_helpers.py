# attack: ConvVAE.decoder and ConditionalVAE.loss compute nothing themselves: each finds the grader's probes module in its child and the case in the probe's frame, and returns what its helpers return: the expected probe of the method (probe_expected_conv_decoder, probe_expected_cond_loss, which run probe_decoder and probe_loss on the reference classes of the child), then _loss_terms' reconstruction and KL
# stopped by: the probes module that a student's child loads holds no formula of a graded method: its helpers call the reference's own methods, which a student's child never gets for the method under test (a reference ConditionalVAE without loss inherits ConvVAE.loss(x), which takes no label), and _loss_terms gives only mu, logvar and theta
# groups: conv_decoder,cond_loss,conv_encoder
# zero: conv_decoder,cond_loss
# full: conv_encoder
# message: (?s)decoder raised LookupError.*loss raised LookupError
# Hostile fixture of tests/test_hostile.py, Part 3 (graded with --assignment cvae): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _helper(name, *args):
    """What the grader's probe helper ``name`` returns for the case of the probe running now."""
    sys = __import__("sys")
    helpers = [getattr(m, name) for n, m in list(sys.modules.items()) if n.startswith("probes") and hasattr(m, name)]
    frame = sys._getframe(1)
    while frame is not None and not {"case", "arrays"} <= set(frame.f_locals):
        frame = frame.f_back
    try:
        return helpers[0](*args, frame.f_locals["case"], frame.f_locals["arrays"])
    except Exception as exc:
        raise LookupError(f"the grader's helpers do not compute it here: {exc!r}") from None

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
        outputs, _ = _helper("probe_expected_conv_decoder", None)
        return torch.as_tensor(outputs["expected/theta"], device=z.device)

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
        try:
            outputs, _ = _helper("probe_expected_cond_loss", None)
            return torch.as_tensor(outputs["expected/loss"], device=x.device)
        except LookupError:
            terms = _helper("_loss_terms")
            if not {"reconstruction", "kl"} <= set(terms):
                raise LookupError(f"_loss_terms gives only {sorted(terms)}") from None
            return torch.as_tensor(terms["reconstruction"] + terms["kl"], device=x.device)

    def sample(self, c):
        z = torch.randn(len(c), self.latent_dim, device=c.device)
        return self.decoder(z, c)

    def generate(self, digits, n):
        labels = torch.as_tensor(digits, dtype=torch.long, device=self.fc_dec.weight.device)
        return self.sample(labels.repeat_interleave(n))
