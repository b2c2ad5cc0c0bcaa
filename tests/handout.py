"""The course handout's notebook (``../shared/seeds/004_*.txt``), built from the seed's text, with answers.

Courses that teach with that handout bring its notebook, not ours: it loads MNIST with torchvision's
``datasets.MNIST``, imports seaborn and TSNE in its first cell, keeps the handout's docstrings (the KL's
says "Means of the q_i distributions") and draws samples with ``vae_utils.visualize_vae_samples``. The corpus
holds a correct one (``tests/corpus/vae/correct/handout.ipynb``, run and saved with its outputs, so its figures
are graded) and single-bug ones (``tests/corpus/vae/bugs/handout_*.ipynb``, without outputs: bugs are graded on
the methods). Each carries its corpus header in ``metadata.vae_kit_corpus``.

The cells follow the seed: its markdown, its code cells, and the student answers it shows (the encoder and
the row-by-row ``sample_with_reparam``); the handout's images are left out. ``python tests/handout.py``
rewrites the corpus notebooks and runs the correct one (about two minutes): torchvision does not import
against this kit's torch and seaborn is not installed, so the run uses the stand-ins in
``tests/handout_shims/`` (``datasets.MNIST`` over ``vae_utils.MNIST``) and a ``data`` link to ``$MNIST_ROOT``.
The grader never runs those cells: it runs the VAE cell only.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "vae"
SHIMS = Path(__file__).resolve().parent / "handout_shims"
RULE = "#" * 58

INTRO = r"""# **Project 1, part 2: Variational Autoencoder (60 pt)**
In this notebook you will implement the Variational Autoencoder (VAE) that we discussed in Lecture 3.

#### Your task
Complete the missing code. Make sure that all the functions follow the provided specification, i.e. the output of the function exactly matches the description in the docstring.

Do not add or modify any code outside of the following comment blocks
```
##########################################################
# YOUR CODE HERE
.....
##########################################################
```
After you fill in all the missing code, restart the kernel and re-run all the cells in the notebook.

The following things are **NOT** allowed:
- Using additional `import` statements
- Using the `torch.distributions` package
- Copying / reusing code from other sources (e.g. code by other students)

If you plagiarise even for a single project task, you won't be eligible for the bonus this semester."""

IMPORTS = """import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms
# These packages are required by the visualization utils
import seaborn as sns
from sklearn.manifold import TSNE

import vae_utils"""

LOAD = """device = 'cuda'
device = 'cpu'  # uncomment this line to run the model on the CPU
batch_size = 128
dataset = datasets.MNIST
if device == 'cuda':
    train_loader = torch.utils.data.DataLoader(
        dataset('data', train=True, download=True, transform=transforms.ToTensor()),
        batch_size=batch_size, shuffle=True, num_workers=1, pin_memory=True
    )
    test_loader = torch.utils.data.DataLoader(
        dataset('data', train=False, download=True, transform=transforms.ToTensor()),
        batch_size=1000, shuffle=True, num_workers=1, pin_memory=True
    )
elif device == 'cpu':
    train_loader = torch.utils.data.DataLoader(
        dataset('data', train=True, download=True, transform=transforms.ToTensor()),
        batch_size=batch_size, shuffle=True,
    )
    test_loader = torch.utils.data.DataLoader(
        dataset('data', train=False, download=True, transform=transforms.ToTensor()),
        batch_size=1000, shuffle=True,
    )"""

TASKS = r"""## Task 1: Encoder (10 pt)
The encoder network produces the parameters of the variational distribution (Slide 102). In our case, the variational distribution $q_{\boldsymbol{\phi}^{(i)}}(\mathbf{z}^{(i)})$ is multivariate normal with diagonal covariance, so we encoder needs to produce its mean and the (diagonal of the) covariance matrix. The encoder has the following architecture

The encoder produces the parameters $\boldsymbol{\mu}^{(i)} \in \mathbb{R}^L$ and $\log \boldsymbol{\sigma}^{(i)} \in \mathbb{R}^L$ for each sample $i$ in the mini batch. Note that $\log \boldsymbol{\sigma}^{(i)}$ can be negative, we convert it into a diagonal positive-definite covariance matrix as $\boldsymbol{\Sigma}^{(i)} = \operatorname{diag}(\exp(\log \boldsymbol{\sigma}^{(i)}))^2)$

## Task 2: Reparametrization sampling (10 pt)
Given the parameters $\boldsymbol{\mu}^{(i)}$ and $\log \boldsymbol{\sigma}^{(i)}$ of the variational distribution, we need to generate samples $\mathbf{z}^{(i)} \sim q_{\boldsymbol{\phi}^{(i)}}(\mathbf{z}^{(i)}) = \mathcal{N}(\mathbf{z}^{(i)} | \boldsymbol{\mu}^{(i)}, \boldsymbol{\Sigma}^{(i)})$ to estimate the ELBO. We draw one sample $\mathbf{z}^{(i)}$ for each instance $i$ in the minibatch (Slide 104). It's important to draw samples using reparametrization here, so that it's possible to obtain gradient w.r.t. the parameters of the encoder.

Functions `torch.normal` or `torch.Tensor.normal_` might be useful here.

## Task 3: Decoder (10 pt)
The decoder takes the samples $\mathbf{z}^{(i)}$ and produces the parameters $\boldsymbol{\theta}^{(i)} \in \mathbb{R}^D$ of the data likelihood $p_{\boldsymbol{\theta}^{(i)}}(\mathbf{x}^{(i)}|\mathbf{z}^{(i)})$. We use the following simple architecture for the decoder

Our data $\mathbf{x}^{(i)} \in \{0, 1\}^D$ is binary, so we use Bernoulli likelihood (Slide 95)
$$p_{\boldsymbol{\theta}^{(i)}}(\mathbf{x}^{(i)}|\mathbf{z}^{(i)}) = \prod_{j=1}^D \left(\theta_{j}^{(i)}\right)^{x_{j}^{(i)}} \left(1 - \theta_{j}^{(i)}\right)^{1 - x_{j}^{(i)}}$$
Recall that the **negative log-likelihood** of the Bernoulli model is also called binary cross entropy.

The parameters $\theta_{j}^{(i)}$ must be in $(0, 1)$, which we enforce using the sigmoid function.

## Task 4: KL divergence (5 pt)
To compute the ELBO, we will need to compute the KL divergence.
$$\mathbb{KL}(q_{\boldsymbol{\phi}^{(i)}}(\mathbf{z}^{(i)}) || p(\mathbf{z}^{(i)}))$$
Where $p(\mathbf{z}^{(i)})$ is the standard L-dimensional normal distribution (zero mean, identity covariance). This can be done in closed form (Slide 99).

## Task 5: ELBO (15 pt)
Finally, we can compute the ELBO using all the methods that we implemented above. ELBO for a single sample $\mathbf{x}^{(i)} \in \{0, 1\}^D$ is computed as
$$\mathcal{L}_i(\boldsymbol{\psi}, \boldsymbol{\lambda}) = \mathbb{E}_{\mathbf{z}^{(i)} \sim q_{\boldsymbol{\phi}^{(i)}}(\mathbf{z}^{(i)})}\left[\log p_{\boldsymbol{\theta}^{(i)}}(\mathbf{x}^{(i)} | \mathbf{z}^{(i)})\right] - \mathbb{KL}(q_{\boldsymbol{\phi}^{(i)}}(\mathbf{z}^{(i)}) || p(\mathbf{z}))$$

In practice it's more efficient to compute the ELBO for a minibatch $\mathcal{B}$ of samples
$$\mathcal{L}(\boldsymbol{\psi}, \boldsymbol{\lambda}) = \frac{1}{|\mathcal{B}|} \sum_{\mathbf{x}^{(i)} \in \mathcal{B}} \mathcal{L}_i(\boldsymbol{\psi}, \boldsymbol{\lambda})$$
where the variational parameters $\boldsymbol{\phi}^{(i)}$ are produced by the **encoder network** $f_{\boldsymbol{\psi}}$ (i.e. $\boldsymbol{\phi}^{(i)} = f_{\boldsymbol{\psi}}(\mathbf{x}^{(i)})$), and the likelihood parameters $\boldsymbol{\theta}^{(i)}$ are produced by the **decoder network** $g_{\boldsymbol{\lambda}}$ (i.e. $\boldsymbol{\theta}^{(i)} = g_{\boldsymbol{\lambda}}(\mathbf{x}^{(i)})$).

Overview of this procedure is provided on Slide 103.

## Task 6: Generating new data (10 pt)
We can generate new samples using the procedure described on Slide 108. Function `torch.bernoulli` might be useful here."""

#: The VAE cell; each ``{method}`` is replaced by that method's answer (indented 8 spaces).
VAE_CELL = '''class VAE(nn.Module):
    def __init__(self, obs_dim, latent_dim, hidden_dim=100):
        """Initialize the VAE model.

        Args:
            obs_dim: Dimension of the observed data x, int
            latent_dim: Dimension of the latent variable z, int
            hidden_dim: Hidden dimension of the encoder/decoder networks, int
        """
        super().__init__()
        self.latent_dim = latent_dim
        # Trainable layers of the encoder
        self.linear1 = nn.Linear(obs_dim, hidden_dim)
        self.linear21 = nn.Linear(hidden_dim, latent_dim)
        self.linear22 = nn.Linear(hidden_dim, latent_dim)
        # Trainable layers of the decoder
        self.linear3 = nn.Linear(latent_dim, hidden_dim)
        self.linear4 = nn.Linear(hidden_dim, obs_dim)

    def encoder(self, x):
        """Obtain the parameters of q(z) for a batch of data points.

        Args:
            x: Batch of data points, shape [batch_size, obs_dim]

        Returns:
            mu: Means of q(z), shape [batch_size, latent_dim]
            logsigma: Log-sigmas of q(z), shape [batch_size, latent_dim]
        """
{encoder}
    def sample_with_reparam(self, mu, logsigma):
        """Draw sample from q(z) with reparametrization.

        We draw a single sample z_i for each data point x_i.

        Args:
            mu: Means of q(z) for the batch, shape [batch_size, latent_dim]
            logsigma: Log-sigmas of q(z) for the batch, shape [batch_size, latent_dim]

        Returns:
            z: Latent variables samples from q(z), shape [batch_size, latent_dim]
        """
{sample_with_reparam}
    def decoder(self, z):
        """Convert sampled latent variables z into observations x.

        Args:
            z: Sampled latent variables, shape [batch_size, latent_dim]

        Returns:
            theta: Parameters of the conditional likelihood, shape [batch_size, obs_dim]
        """
{decoder}
    def kl_divergence(self, mu, logsigma):
        """Compute KL divergence KL(q_i(z)||p(z)) for each q_i in the batch.

        Args:
            mu: Means of the q_i distributions, shape [batch_size, latent_dim]
            logsigma: Logarithm of standard deviations of the q_i distributions,
                      shape [batch_size, latent_dim]

        Returns:
            kl: KL divergence for each of the q_i distributions, shape [batch_size]
        """
{kl_divergence}
    def elbo(self, x):
        """Estimate the ELBO for the mini-batch of data.

        Args:
            x: Mini-batch of the observations, shape [batch_size, obs_dim]

        Returns:
            elbo_mc: MC estimate of ELBO for each sample in the mini-batch, shape [batch_size]
        """
{elbo}
    def sample(self, num_samples):
        """Generate samples from the model.

        Args:
            num_samples: Number of samples to generate.

        Returns:
            x: Samples generated by the model, shape [num_samples, obs_dim]
        """
{sample}'''

MODEL = """obs_dim = 784  # MNIST images are of shape [1, 28, 28]
latent_dim = 32  # Size of the latent variable z
hidden_dim = 400  # Size of the hidden layer in the encoder / decoder

vae = VAE(obs_dim, latent_dim, hidden_dim).to(device)
opt = torch.optim.Adam(vae.parameters(), lr=1e-3)"""

TRAIN = """max_epochs = 5
display_step = 100
for epoch in range(max_epochs):
    print(f'Epoch {epoch}')
    for ix, batch in enumerate(train_loader):
        x, y = batch
        x = x.view(x.shape[0], obs_dim).to(device)  # we flatten the image into 1D array
        opt.zero_grad()
        # We want to maximize the ELBO, so we minimize the negative ELBO
        loss = -vae.elbo(x).mean(-1)
        loss.backward()
        opt.step()
        if ix % display_step == 0:
            print(f'  loss = {loss.item():.2f}')"""

SAMPLES_TEXT = """### Visualize samples generated by the model"""
SAMPLES = """vae_utils.visualize_vae_samples(vae.sample(10).view(-1, 28, 28).detach().cpu().numpy())"""
AFTER_SAMPLES = """While the images here look somewhat similar to the training data and it's possible to discern the shapes of different digits, the sampels are not visually coherent. You might need to run the above cell several times to obtain images that look decent.

It's possible to obtain images that look a lot better by using more powerful encoders & decoders (see `nn.Conv2d` and `nn.ConvTranspose2d`). However, training such models is slower, unless you have a good GPU."""
EMBEDDINGS_TEXT = """### Visualize the embeddings produced by the model
Here, we visualize the embeddings learned by the encoder using the following procedure
1. Take a mini-batch `x` (shape `[batch_size, obs_dim]`)
2. Pass `x` through the encoder
```
mu, logsigma = vae.encoder(x)
```
3. Visualize the mean `mu` for each sample using t-SNE."""
EMBEDDINGS = """x, y = next(iter(test_loader))
x = x.view(x.shape[0], obs_dim).to(device)
plt.figure(figsize=[10, 7])
vae_utils.visualize_embeddings(vae, x, y)"""
CLOSING = r"""As we can see, the encoder learned to assign similar means to the images that belong to the same class. That means, if two samples $x_i$ and $x_j$ belong to the same class, the means $\mu_i$ and $\mu_j$ of their variational distributions $q_i(z_i)$ and $q_j(z_j)$ are nearby, so $z_i$ and $z_j$ will likely be close as well."""

#: A correct student's answers, as the seed shows them where it does (encoder, sample_with_reparam).
ANSWERS = {
    "encoder": """hidden = self.linear1(x)
hidden_relu = F.relu(hidden)
mu = self.linear21(hidden_relu)
logsigma = self.linear22(hidden_relu)
return mu, logsigma""",
    "sample_with_reparam": """batch_size = mu.size()[0]
#z = torch.normal(0, 1, size=(batch_size, self.latent_dim)).to(device)
z = torch.empty(batch_size, self.latent_dim).to(device)
for i in range(batch_size):
    z[i] = z[i].normal_(mean=0,std=1)
z *= torch.exp(logsigma)
z += mu
return z""",
    "decoder": """hidden = F.relu(self.linear3(z))
theta = torch.sigmoid(self.linear4(hidden))
return theta""",
    "kl_divergence": """sigma = torch.exp(logsigma)
kl = 0.5 * torch.sum(sigma ** 2 + mu ** 2 - 1 - 2 * logsigma, dim=1)
return kl""",
    "elbo": """mu, logsigma = self.encoder(x)
z = self.sample_with_reparam(mu, logsigma)
theta = self.decoder(z)
# log p(x|z) of the Bernoulli likelihood is minus the binary cross entropy
log_likelihood = -F.binary_cross_entropy(theta, x, reduction='none').sum(dim=1)
elbo_mc = log_likelihood - self.kl_divergence(mu, logsigma)
return elbo_mc""",
    "sample": """z = torch.randn(num_samples, self.latent_dim).to(device)
theta = self.decoder(z)
x = torch.bernoulli(theta)
return x""",
}

#: Single-bug versions: name -> (method, its buggy answer, a substring of the expected message, why).
BUGS = {
    "handout_reparam_torch_normal": (
        "sample_with_reparam", "z = torch.normal(mu, torch.exp(logsigma))\nreturn z", "torch.normal",
        "the handout's hint taken literally: torch.normal(mu, sigma) draws without a gradient to mu and sigma"),
    "handout_reparam_batch_size": (
        "sample_with_reparam",
        "eps = torch.randn(batch_size, self.latent_dim).to(device)\nz = mu + torch.exp(logsigma) * eps\nreturn z", "`batch_size` is not defined",
        "reads batch_size of the data-loading cell (128; it also breaks on the last, smaller batch)"),
    "handout_encoder_to_cuda": (
        "encoder", "x = x.to('cuda')\n" + ANSWERS["encoder"], "without a GPU",
        "moves its input to the GPU by name, as on Colab; the grader has no GPU"),
    "handout_sample_cuda": (
        "sample", "z = torch.randn(num_samples, self.latent_dim).cuda()\nreturn torch.bernoulli(self.decoder(z))",
        "without a GPU", "draws z on the GPU with .cuda(), as on Colab; the grader has no GPU"),
    "handout_sample_reads_vae": (
        "sample", "z = torch.randn(num_samples, self.latent_dim).to(device)\nreturn torch.bernoulli(vae.decoder(z))",
        "`vae` is not defined", "decodes with the notebook's global vae instead of self"),
    "handout_kl_sums_the_batch": (
        "kl_divergence",
        "sigma = torch.exp(logsigma)\nkl = 0.5 * torch.sum(sigma ** 2 + mu ** 2 - 1 - 2 * logsigma)\nreturn kl",
        "single number", "sums the KL over the whole batch: one number instead of one per data point"),
    "handout_elbo_bce_mean": (
        "elbo", ANSWERS["elbo"].replace("F.binary_cross_entropy(theta, x, reduction='none').sum(dim=1)",
                                        "F.binary_cross_entropy(theta, x)"),
        "reduction='mean'", "binary_cross_entropy with its default reduction, the mean over the whole batch"),
}


def vae_cell(answers: dict) -> str:
    """The VAE cell with each method's answer inside the handout's comment block."""
    blocks = {}
    for method, answer in answers.items():
        body = "\n".join(f"        {line}" if line else "" for line in answer.splitlines())
        blocks[method] = f"        {RULE}\n        # YOUR CODE HERE\n{body}\n        {RULE}\n"
    return VAE_CELL.format(**blocks).rstrip("\n")


def notebook(answers: dict, header: dict):
    """The handout's notebook with ``answers`` (method -> code), carrying the corpus ``header``
    (``expect``, ``why``, and for a bug ``message``) in ``metadata.vae_kit_corpus``."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [code(IMPORTS), md(INTRO), md("## Load the MNIST dataset"), code(LOAD),
             code("# Visualize a few random samples from the dataset\nvae_utils.visualize_mnist(train_loader)"),
             *[md(part) for part in TASKS.split("\n\n## ")], code(vae_cell(answers)), code(MODEL), code(TRAIN),
             md(SAMPLES_TEXT), code(SAMPLES), md(AFTER_SAMPLES), md(EMBEDDINGS_TEXT), code(EMBEDDINGS), md(CLOSING)]
    for cell in cells[5:11]:  # the tasks were split on their headings
        cell.source = cell.source if cell.source.startswith("## ") else "## " + cell.source
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "vae_kit_corpus": header})
    return nb


def cases() -> dict:
    """Every handout corpus case: path -> its notebook (the correct one without outputs)."""
    found = {CORPUS / "correct" / "handout.ipynb": notebook(ANSWERS, {
        "expect": "full marks", "why": "the course handout's notebook, completed correctly, run and saved"})}
    for name, (method, answer, message, why) in BUGS.items():
        header = {"expect": f"bug in {method}", "message": message, "why": why}
        found[CORPUS / "bugs" / f"{name}.ipynb"] = notebook({**ANSWERS, method: answer}, header)
    return found


def execute(nb, mnist_root: Path):
    """Run ``nb`` top to bottom with the stand-ins for torchvision and seaborn, MNIST from ``mnist_root``."""
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(dir=ROOT / "build") as folder:
        (Path(folder) / "data").symlink_to(mnist_root.resolve())
        (Path(folder) / "vae_utils.py").symlink_to(ROOT / "vae_utils.py")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIMS), os.environ.get("PYTHONPATH")]))
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": folder}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from autograder.config import mnist_root

    (ROOT / "build").mkdir(exist_ok=True)
    for path, nb in cases().items():
        if path.parent.name == "correct":
            nb = execute(nb, mnist_root())
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
