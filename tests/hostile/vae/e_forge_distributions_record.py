# attack: kl_divergence writes forged lines and garbage to every pipe of its process (where the grader may record) (end-of-case lines for every case, bytes that are not text), closes them and puts /dev/null in their place, then reads torch.distributions.Normal through a name built at run time and uses its kl_divergence
# stopped by: the trusted side parses the record itself (bounded, never trusting a line it did not expect): text the grader never writes, or a case without its end line, shows that the record was interfered with, which costs the method
# groups: kl_divergence,decoder
# zero: kl_divergence
# full: decoder
# message: record of what it reads from torch.distributions
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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
        _forge_and_close()
        normal = getattr(getattr(torch, _hidden(DISTRIBUTIONS)), _hidden([78, 111, 114, 109, 97, 108]))
        q, p = normal(mu, torch.exp(logsigma)), normal(torch.zeros_like(mu), torch.ones_like(mu))
        return getattr(torch, _hidden(DISTRIBUTIONS)).kl_divergence(q, p).sum(dim=-1)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        theta = self.decoder(self.sample_with_reparam(mu, logsigma))
        log_px = (x * torch.log(theta + 1e-10) + (1 - x) * torch.log(1 - theta + 1e-10)).sum(dim=-1)
        return log_px - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
