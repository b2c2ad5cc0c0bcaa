# attack: its loss and interpolate compute nothing themselves: each finds the grader's probes module in its child and the case in the probe's frame, and returns what the helpers that make the reference's expected values return (the loss's reconstruction and KL terms; the decoded points of the mistake t = linspace(0, 1, steps + 2), whose inner points are the right ones)
# stopped by: the probes module that a student's child loads holds no formula of a graded method: the helpers that make expected values call the reference's own methods, which a student's child never gets for the method under test
# groups: encoder,loss,interpolate
# zero: loss,interpolate
# full: encoder
# message: (?s)loss raised LookupError.*interpolate raised LookupError
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _helper(name, change):
    """What the grader's probe helper ``name`` returns for the case of the probe running now (``change``d)."""
    sys = __import__("sys")
    helpers = [getattr(m, name) for n, m in list(sys.modules.items()) if n.startswith("probes") and hasattr(m, name)]
    frame = sys._getframe(1)
    while frame is not None and not {"case", "arrays"} <= set(frame.f_locals):
        frame = frame.f_back
    try:
        return helpers[0](change(frame.f_locals["case"]), frame.f_locals["arrays"])
    except Exception as exc:
        raise LookupError(f"the grader's helpers do not compute it here: {exc!r}") from None

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
        terms = _helper("_loss_terms", lambda case: case)
        reconstruction, kl = (torch.as_tensor(terms[key], device=x.device) for key in ("reconstruction", "kl"))
        return reconstruction + beta * kl

    def reconstruct(self, x):
        mu, _ = self.encoder(x)
        return self.decoder(mu)

    def latent_grid(self, n, z_min, z_max):
        values = torch.linspace(z_min, z_max, n, device=self.linear3.weight.device)
        z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
        return self.decoder(torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1))

    def interpolate(self, x_a, x_b, steps=7):
        more = lambda case: {**case, "params": {**case["params"], "steps": steps + 2}}
        inner = torch.as_tensor(_helper("_interpolation_alternatives", more)["linspace"], device=x_a.device)[1:-1]
        return torch.cat([x_a.unsqueeze(0), inner, x_b.unsqueeze(0)])

    @staticmethod
    def pick_pairs(labels, same, seed):
        generator, labels = torch.Generator().manual_seed(seed), labels.cpu()
        if same:
            return torch.stack([torch.multinomial((labels == d).float(), 2, generator=generator) for d in range(10)])
        firsts = torch.randperm(len(labels), generator=generator)[:10]
        seconds = [torch.multinomial((labels != labels[a]).float(), 1, generator=generator) for a in firsts]
        return torch.stack([firsts, torch.cat(seconds)], dim=1)
