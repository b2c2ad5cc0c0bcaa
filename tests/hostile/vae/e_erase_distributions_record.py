# attack: sample reaches torch.distributions through a name built at run time (Bernoulli), then empties every list, set and dict of the grader's modules in its process and tries to truncate or rewind every descriptor, to erase the record of that read
# stopped by: each read is written at once to a pipe whose read end only the trusted side holds (the fork server); a line written cannot be taken back
# groups: sample,decoder
# zero: sample
# full: decoder
# message: read `torch.distributions.Bernoulli` while it ran
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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


class VAE(nn.Module):
    def __init__(self, obs_dim, latent_dim, hidden_dim=100):
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

    def sample_with_reparam(self, mu, logsigma):
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon

    def decoder(self, z):
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        theta = self.decoder(self.sample_with_reparam(mu, logsigma))
        log_px = (x * torch.log(theta + 1e-10) + (1 - x) * torch.log(1 - theta + 1e-10)).sum(dim=-1)
        return log_px - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        bernoulli = getattr(getattr(torch, _hidden(DISTRIBUTIONS)), _hidden([66, 101, 114, 110, 111, 117, 108, 108, 105]))
        x = bernoulli(probs=self.decoder(z)).sample()
        _erase_the_record()
        return x
