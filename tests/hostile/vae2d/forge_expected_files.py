# attack: its decoder returns 0.5 everywhere, plants a reference.py whose decoder does the same (and an expected_decoder.npz) in its scratch folder, HOME, /tmp, /dev/shm and the runtime folder, and at exit rewrites outputs.npz with valid arrays theta and expected/theta, equal
# stopped by: the runner refuses outputs the probe does not declare; every child gets a fresh scratch folder and private /tmp and /dev/shm, the runtime is read-only to it, and the expected values come from another child, so latent_grid's reference decoder is untouched
# groups: decoder,latent_grid
# zero: decoder
# full: latent_grid
# message: 'expected/theta' is not an output of this probe
# Hostile fixture of tests/test_hostile.py, Part 2 (graded with --assignment vae2d): every loop, allocation,
# fork and sleep in it is bounded. @KIT@, @RESULTS@, @SENTINEL@ and @PORT@ are filled in by the test before grading.
_SHAPES = []
FAKE_REFERENCE = """import torch
import torch.nn as nn


class VAE2D(nn.Module):
    def decoder(self, z):
        return torch.full((len(z), self.linear4.out_features), 0.5)
"""


def _forge_outputs():
    """At exit, after the child wrote its outputs: the same arrays again, with expected values equal to them."""
    arrays = {}
    for index, shape in enumerate(_SHAPES):
        arrays[f"{index}/theta"] = arrays[f"{index}/expected/theta"] = np.full(shape, 0.5, np.float32)
    np.savez("outputs.npz", **arrays)

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
        os = __import__("os")
        sys = __import__("sys")
        if not _SHAPES:
            __import__("atexit").register(_forge_outputs)
            folders = [os.getcwd(), os.environ.get("HOME", "."), "/tmp", "/dev/shm"]
            folders += [os.path.dirname(m.__file__) for n, m in list(sys.modules.items()) if n.startswith("probes")]
            for folder in folders:
                for name, content in (("reference.py", FAKE_REFERENCE), ("expected_decoder.npz", "")):
                    try:
                        with open(os.path.join(folder, name), "w") as f:
                            f.write(content)
                    except OSError:
                        pass
        _SHAPES.append((z.shape[0], self.linear4.out_features))
        return torch.full(_SHAPES[-1], 0.5)

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
