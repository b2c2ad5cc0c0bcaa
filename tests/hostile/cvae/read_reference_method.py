# attack: ConvVAE.decoder, ConditionalVAE.sample and ConditionalVAE.generate each look for the method under test among the reference pieces their child can reach (the module the grader imported, reference.py in its scratch folder, HOME and the runtime folder, every loaded module's classes) and run it
# stopped by: the reference pieces written into a student's child never hold the method under test (each probe's spec names the pieces it gets: every reference method but the answer; for sample, neither sample nor generate, which calls it), and the expected values come from a child that runs no student code
# groups: conv_decoder,sample,generate
# zero: conv_decoder,sample,generate
# message: (?s)decoder raised LookupError.*sample raised LookupError.*generate raised LookupError
# Hostile fixture of tests/test_hostile.py, Part 3 (graded with --assignment cvae): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
def _reference_method(class_name, name):
    """The reference's ``class_name.name`` (defined by that class itself), wherever this child can find one."""
    sys = __import__("sys")
    os = __import__("os")
    modules = [m for n, m in list(sys.modules.items()) if n == "reference" or n.startswith("probes")]
    for module in modules:
        found = vars(getattr(module, class_name, object)).get(name)
        if found is not None:
            return found
    folders = {os.getcwd(), os.environ.get("HOME", ".")}
    folders |= {os.path.dirname(m.__file__) for m in modules if getattr(m, "__file__", None)}
    for folder in sorted(folders):
        path = os.path.join(folder, "reference.py")
        if os.path.isfile(path):
            namespace = {"torch": torch, "nn": nn, "F": F, "__name__": "found"}
            exec(open(path).read(), namespace)
            found = vars(namespace.get(class_name, object)).get(name)
            if found is not None:
                return found
    raise LookupError(f"no reference {class_name}.{name} anywhere")

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
        return _reference_method("ConvVAE", "decoder")(self, z)

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
        return _reference_method("ConditionalVAE", "sample")(self, c)

    def generate(self, digits, n):
        return _reference_method("ConditionalVAE", "generate")(self, digits, n)
