# attack: its reparameterize computes nothing itself: it looks for the notebook checks' module (vae_check) in its child, in sys.modules and as a file of the runtime folder, and uses the checks' stand-in for the reference's reparameterize (z = mu + exp(logvar / 2) * eps, as the notebook states it)
# stopped by: the children's vae_check.py holds only the probes' helpers (autograder/processes/runtime.py, child_source): no judge, no stand-in of a check, in memory or on disk
# groups: encoder,reparameterize
# zero: reparameterize
# full: encoder
# message: reparameterize raised LookupError
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
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
        sys = __import__("sys")
        os = __import__("os")
        found = [vars(m) for n, m in list(sys.modules.items()) if n.endswith("vae_check")]
        for module in [m for n, m in list(sys.modules.items()) if n in ("probing", "vae_check")]:
            path = os.path.join(os.path.dirname(module.__file__), "vae_check.py")
            if os.path.exists(path):
                namespace = {"__name__": "stolen"}
                exec(compile(open(path).read(), path, "exec"), namespace)
                found.append(namespace)
        helper = next((n["own_pieces"] for n in found if "own_pieces" in n), None)
        if helper is None:
            raise LookupError("no stand-in of the checks here")
        holder = type("Holder", (), {})()
        helper(holder, "reparameterize", 0, -1)  # its seeded noise for batches of -1 rows: fresh noise here
        return holder.reparameterize(mu, logvar)

    def decoder(self, z):
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))

    def loss(self, x, beta):
        sys = __import__("sys")
        os = __import__("os")
        found = getattr(getattr(sys.modules.get("reference"), "VAE2D", None), "loss", None)
        if found is None:
            probes = [m for n, m in list(sys.modules.items()) if n.startswith("probes")]
            for folder in [os.getcwd()] + [os.path.dirname(m.__file__) for m in probes]:
                path = os.path.join(folder, "reference.py")
                if os.path.exists(path):
                    namespace = {}
                    exec(open(path).read(), namespace)
                    found = getattr(namespace.get("VAE2D"), "loss", None)
                    if found is not None:
                        break
        if found is None:
            raise LookupError("no reference loss anywhere")
        return found(self, x, beta)  # self.reparameterize is the grader's, with its noise

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
