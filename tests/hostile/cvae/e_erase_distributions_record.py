# attack: ConditionalVAE.sample draws z from torch.distributions.Normal(0, 1), reached through a name built at run time, then empties every list and set of the grader's modules and of its watcher's closures and tries to truncate or rewind every descriptor, to erase the record of that read (twin: e_erase_distributions_record)
# stopped by: each read is written at once to a pipe whose read end only the trusted side holds (the fork server); a line written cannot be taken back
# groups: sample,conv_decoder
# zero: sample
# full: conv_decoder
# message: read `torch.distributions.Normal` while it ran
# Hostile fixture of tests/test_hostile.py, Part 3 (graded with --assignment cvae): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _hidden(codes):
    """A name the source cannot show: built from character codes at run time."""
    return bytes(codes).decode()


DISTRIBUTIONS = [100, 105, 115, 116, 114, 105, 98, 117, 116, 105, 111, 110, 115]


def _erase_the_record():
    """Everything that might hold the grader's record of what this code read: the grader's old in-memory list
    (``probing.TOUCHED``), every list and set of the grader's modules and of the closures of their functions (the
    watcher's), and the record's descriptor (truncated, rewound: a pipe refuses both)."""
    sys, os = __import__("sys"), __import__("os")
    record = getattr(sys.modules.get("probing"), "TOUCHED", None)
    if record is not None:
        record.clear()
    for name, module in list(sys.modules.items()):
        if name in ("probing", "child") or name.startswith("probes") or name.startswith("torch.distributions"):
            places = list(vars(module).values()) if type(module) is type(sys) else []
            places += [type(module).__dict__.get("__getattr__")]
            for value in places:
                cells = [c.cell_contents for c in getattr(value, "__closure__", None) or () if c.cell_contents is not None]
                for held in [value] + cells:
                    if type(held) in (list, set):
                        held.clear()
                    for inner in getattr(held, "__closure__", None) or ():
                        if type(inner.cell_contents) in (list, set):
                            inner.cell_contents.clear()
    for fd in range(3, 256):
        for undo in (lambda: os.ftruncate(fd, 0), lambda: os.lseek(fd, 0, 0)):
            try:
                undo()
            except OSError:
                pass


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
        normal = getattr(getattr(torch, _hidden(DISTRIBUTIONS)), _hidden([78, 111, 114, 109, 97, 108]))
        zeros = torch.zeros(len(c), self.latent_dim, device=c.device)
        z = normal(zeros, torch.ones_like(zeros)).sample()
        _erase_the_record()
        return self.decoder(z, c)

    def generate(self, digits, n):
        labels = torch.as_tensor(digits, dtype=torch.long, device=self.fc_dec.weight.device)
        return self.sample(labels.repeat_interleave(n))
