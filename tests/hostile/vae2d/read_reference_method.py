# attack: reconstruct, latent_grid and interpolate each look for the method under test among the reference pieces their child can reach (the module the grader imported, reference.py in its scratch folder, HOME and the runtime folder, every loaded module's VAE2D) and run it
# stopped by: the reference pieces written into a student's child never hold the method under test (each probe's spec names the pieces it gets: the encoder and the decoder at most), and the expected values come from a child that runs no student code
# groups: encoder,reconstruct,latent_grid,interpolate
# zero: reconstruct,latent_grid,interpolate
# full: encoder
# message: (?s)reconstruct raised LookupError.*latent_grid raised LookupError.*interpolate raised LookupError
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _reference_method(name):
    """The reference VAE2D's method ``name``, wherever this child can find one."""
    sys = __import__("sys")
    os = __import__("os")
    modules = [m for n, m in list(sys.modules.items()) if n == "reference" or n.startswith("probes")]
    for module in modules:
        found = getattr(getattr(module, "VAE2D", None), name, None)
        if found is not None:
            return found
    folders = {os.getcwd(), os.environ.get("HOME", ".")}
    folders |= {os.path.dirname(m.__file__) for m in modules if getattr(m, "__file__", None)}
    for folder in sorted(folders):
        path = os.path.join(folder, "reference.py")
        if os.path.isfile(path):
            namespace = {"torch": torch, "nn": nn, "F": F}
            exec(open(path).read(), namespace)
            found = getattr(namespace.get("VAE2D"), name, None)
            if found is not None:
                return found
    raise LookupError(f"no reference {name} anywhere")

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
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
        return reconstruction + beta * kl

    def reconstruct(self, x):
        return _reference_method("reconstruct")(self, x)

    def latent_grid(self, n, z_min, z_max):
        return _reference_method("latent_grid")(self, n, z_min, z_max)

    def interpolate(self, x_a, x_b, steps=7):
        return _reference_method("interpolate")(self, x_a, x_b, steps)

    @staticmethod
    def pick_pairs(labels, same, seed):
        generator, labels = torch.Generator().manual_seed(seed), labels.cpu()
        if same:
            return torch.stack([torch.multinomial((labels == d).float(), 2, generator=generator) for d in range(10)])
        firsts = torch.randperm(len(labels), generator=generator)[:10]
        seconds = [torch.multinomial((labels != labels[a]).float(), 1, generator=generator) for a in firsts]
        return torch.stack([firsts, torch.cat(seconds)], dim=1)
