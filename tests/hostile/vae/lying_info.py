# attack: writes its own outputs.npz (a pickled object array and a zip bomb member) and a deeply nested result.json from atexit, after the probe
# stopped by: the trusted process opens files without following links, caps sizes and nesting, and parses .npy itself (no pickles, no object dtypes)
# groups: decoder,kl_divergence
# zero: decoder
# full: kl_divergence
# message: unreadable result|could not read what your code returned
# Hostile fixture of tests/test_hostile.py: every loop, allocation, fork and sleep in it is bounded.
# @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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
        atexit = __import__("atexit")
        os = __import__("os")
        zipfile = __import__("zipfile")
        def forge():
            with zipfile.ZipFile("outputs.npz", "w", zipfile.ZIP_DEFLATED) as archive:
                header = b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little") + b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }".ljust(117) + b"\n"
                archive.writestr("0/theta.npy", header + bytes(2**20))
                np.save("obj.npy", np.array([object()]), allow_pickle=True)
                archive.write("obj.npy", "1/theta.npy")
            with open("result.json", "w") as f:
                f.write('{"status": "ok", "info": ' + "[" * 100000 + "]" * 100000 + "}")
            os._exit(0)
        atexit.register(forge)
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def kl_divergence(self, mu, logsigma):
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)

    def elbo(self, x):
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        theta = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        return log_likelihood - self.kl_divergence(mu, logsigma)

    def sample(self, num_samples):
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
