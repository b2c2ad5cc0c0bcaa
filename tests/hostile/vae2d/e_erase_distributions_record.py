# attack: reparameterize draws z with torch.distributions.Normal(...).rsample(), reached through a name built at run time, then empties every list and set of the grader's modules and of its watcher's closures and tries to truncate or rewind every descriptor, to erase the record of that read (twin: e_erase_distributions_record)
# stopped by: each read is written at once to a pipe whose read end only the trusted side holds (the fork server); a line written cannot be taken back
# groups: reparameterize,decoder
# zero: reparameterize
# full: decoder
# message: read `torch.distributions.Normal` while it ran
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
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
        normal = getattr(getattr(torch, _hidden(DISTRIBUTIONS)), _hidden([78, 111, 114, 109, 97, 108]))
        z = normal(mu, torch.exp(0.5 * logvar)).rsample()
        _erase_the_record()
        return z

    def decoder(self, z):
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
