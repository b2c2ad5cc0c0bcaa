# expect: full marks
# why: the whole notebook exported by `jupyter nbconvert --to script` (magics, MNIST, training, plots)
# the reference itself: the solution's class, in another form
#!/usr/bin/env python
# coding: utf-8

# # Variational Autoencoder (75 pt)
# 
# In this notebook you implement the variational autoencoder (VAE) of Kingma & Welling (2014),
# *Auto-Encoding Variational Bayes* ([arXiv:1312.6114](https://arxiv.org/abs/1312.6114)), and train it on MNIST.
# 
# ### Your task
# Complete the missing code in the `VAE` class below: every place marked `# YOUR CODE HERE` followed by
# `raise NotImplementedError()`. Replace both lines with your code. Each method must follow its docstring
# exactly: the shapes, the meaning and the units of what it returns.
# 
# | task | what is graded | points |
# |---|---|---|
# | 1 | `encoder` | 10 |
# | 2 | `sample_with_reparam` | 10 |
# | 3 | `decoder` | 10 |
# | 4 | `kl_divergence` | 5 |
# | 5 | `elbo` | 15 |
# | 6 | `sample` | 10 |
# | | training: one epoch of training with your `elbo` reaches a test-set ELBO of at least -140 nats | 10 |
# | | figures: the three figures saved in your notebook | 5 |
# | | **total** | **75** |
# 
# Each method is graded on its own, with the grader's reference code around it, so a mistake in one method
# costs only that method's points (and the training run's, when training uses it).
# 
# ### Submitting
# Submit this notebook as **`vae.ipynb`**. After you fill in all the missing code, **restart the kernel, run
# all cells, and save the notebook** before you submit it: the figures are graded from its saved outputs.
# The grader runs only the cell that defines `class VAE`, with the imports and `device` of the first cell;
# code in other cells is not graded, so each method must work on its own, from its arguments and `self`.
# 
# ### Rules
# The following things are **not** allowed, and cost all the points of the method that does them:
# - adding `import` statements (everything you need is imported in the first cell);
# - using the `torch.distributions` package.
# 
# This notebook runs on a CPU in a few minutes, and unchanged on Google Colab: upload `vae_utils.py`,
# `vae_check.py` and `checks_vae.npz` next to it (the last two run the checks after the `VAE` class).

# In[ ]:


get_ipython().system('pip install -q torch')
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().run_line_magic('load_ext', 'autoreload')


# In[1]:


import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import vae_utils

torch.manual_seed(0)  # the same weights and samples on every run
# Use the GPU when there is one, the CPU otherwise.
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ### Load the MNIST dataset
# `vae_utils.mnist_loaders` reads MNIST from the folder named by the environment variable `MNIST_ROOT`
# (default `./data`), downloading the four files the first time. Each batch `x` has shape
# `[batch_size, 1, 28, 28]` with pixel intensities in $[0, 1]$.

# In[2]:


batch_size = 128
train_loader, test_loader = vae_utils.mnist_loaders(batch_size)


# In[3]:


# Visualize a few random samples from the dataset
vae_utils.visualize_mnist(train_loader)


# ## The model
# 
# The VAE has a latent variable $\mathbf{z}^{(i)} \in \mathbb{R}^L$ for each image
# $\mathbf{x}^{(i)} \in [0, 1]^D$ ($D = 784$), with the prior $p(\mathbf{z}) = \mathcal{N}(\mathbf{0}, \mathbf{I})$.
# 
# ### Task 1: Encoder (10 pt)
# The encoder produces the parameters of the variational distribution
# $q_{\phi^{(i)}}(\mathbf{z}^{(i)}) = \mathcal{N}(\mathbf{z}^{(i)} \mid \boldsymbol{\mu}^{(i)}, \operatorname{diag}(\boldsymbol{\sigma}^{(i)})^2)$,
# a normal distribution with diagonal covariance. It has one hidden layer with a ReLU and two heads:
# 
# $$\mathbf{h} = \operatorname{ReLU}(\texttt{linear1}(\mathbf{x})), \qquad
# \boldsymbol{\mu} = \texttt{linear21}(\mathbf{h}), \qquad
# \log \boldsymbol{\sigma} = \texttt{linear22}(\mathbf{h}).$$
# 
# Note that $\log\boldsymbol{\sigma}$ is the log **standard deviation** (not the log-variance); it can be
# negative, and $\boldsymbol{\Sigma} = \operatorname{diag}(\exp(\log \boldsymbol{\sigma}))^2$ is positive definite.
# 
# ### Task 2: Reparameterization sampling (10 pt)
# To estimate the ELBO we draw one sample $\mathbf{z}^{(i)} \sim q_{\phi^{(i)}}(\mathbf{z}^{(i)})$ for each
# data point in the minibatch. Draw it with the reparameterization trick,
# 
# $$\boldsymbol{\epsilon} \sim \mathcal{N}(\mathbf{0}, \mathbf{I}), \qquad
# \mathbf{z} = \boldsymbol{\mu} + \exp(\log \boldsymbol{\sigma}) \odot \boldsymbol{\epsilon},$$
# 
# so that gradients flow from $\mathbf{z}$ back to $\boldsymbol{\mu}$ and $\log\boldsymbol{\sigma}$, and so to
# the encoder's weights (Kingma & Welling 2014, section 2.4). A fresh, independent $\boldsymbol{\epsilon}$ is
# drawn for every row and every call. `torch.randn_like` may be useful. Note that `torch.normal(mu, sigma)` draws from the right distribution but carries **no gradient** to `mu` and `sigma`: draw the noise $\boldsymbol{\epsilon}$ and compute $\mathbf{z}$ from it.
# 
# ### Task 3: Decoder (10 pt)
# The decoder maps a latent sample to the parameters $\boldsymbol{\theta}^{(i)} \in (0, 1)^D$ of the data likelihood,
# 
# $$\boldsymbol{\theta} = \operatorname{sigmoid}(\texttt{linear4}(\operatorname{ReLU}(\texttt{linear3}(\mathbf{z})))).$$
# 
# Our data is (nearly) binary, so we use the **Bernoulli likelihood**
# 
# $$p_{\boldsymbol{\theta}^{(i)}}(\mathbf{x}^{(i)} \mid \mathbf{z}^{(i)}) = \prod_{j=1}^{D} \left(\theta_j^{(i)}\right)^{x_j^{(i)}} \left(1 - \theta_j^{(i)}\right)^{1 - x_j^{(i)}}.$$
# 
# Its negative logarithm is the binary cross-entropy. The sigmoid (one per pixel, not a softmax over
# the pixels) keeps every $\theta_j$ in $(0, 1)$.
# 
# ### Task 4: KL divergence (5 pt)
# The KL divergence between $q_{\phi^{(i)}}$ and the prior has a closed form
# (Kingma & Welling 2014, appendix B):
# 
# $$\mathbb{KL}\left(q_{\phi^{(i)}}(\mathbf{z}^{(i)}) \,\|\, p(\mathbf{z})\right)
# = \frac{1}{2} \sum_{l=1}^{L} \left( \sigma_l^2 + \mu_l^2 - 1 - \log \sigma_l^2 \right),
# \qquad \sigma_l = \exp(\log\sigma_l).$$
# 
# Return one value per data point, summed over the latent dimensions, in nats.
# 
# ### Task 5: ELBO (15 pt)
# The evidence lower bound of one data point (Kingma & Welling 2014, eq. 10) is
# 
# $$\mathcal{L}_i = \mathbb{E}_{\mathbf{z}^{(i)} \sim q_{\phi^{(i)}}}\left[\log p_{\boldsymbol{\theta}^{(i)}}(\mathbf{x}^{(i)} \mid \mathbf{z}^{(i)})\right]
# - \mathbb{KL}\left(q_{\phi^{(i)}}(\mathbf{z}^{(i)}) \,\|\, p(\mathbf{z})\right),$$
# 
# where $\phi^{(i)} = f_{\psi}(\mathbf{x}^{(i)})$ comes from the encoder and
# $\boldsymbol{\theta}^{(i)} = g_{\lambda}(\mathbf{z}^{(i)})$ from the decoder. Estimate the expectation with the
# single sample $\mathbf{z}^{(i)}$ from Task 2: `elbo` returns one value per data point (the training loop
# below averages them over the minibatch), in nats, using all the methods above.
# 
# ### Task 6: Generating new data (10 pt)
# To generate new images, draw $\mathbf{z} \sim p(\mathbf{z}) = \mathcal{N}(\mathbf{0}, \mathbf{I})$, pass it
# through the decoder, and draw $\mathbf{x} \sim \operatorname{Bernoulli}(\boldsymbol{\theta})$: each pixel is
# 0 or 1. `torch.bernoulli` may be useful.

# In[4]:


class VAE(nn.Module):
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
            x: Batch of data points, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            mu: Means of q(z), shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z), shape [batch_size, latent_dim]
        """
        ### BEGIN SOLUTION
        hidden = F.relu(self.linear1(x))
        return self.linear21(hidden), self.linear22(hidden)
        ### END SOLUTION

    def sample_with_reparam(self, mu, logsigma):
        """Draw a sample from q(z) with the reparameterization trick.

        We draw a single sample z_i for each data point x_i, with fresh noise on every call.

        Args:
            mu: Means of q(z) for the batch, shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z) for the batch, shape [batch_size, latent_dim]

        Returns:
            z: Latent variables sampled from q(z), shape [batch_size, latent_dim],
               differentiable with respect to mu and logsigma
        """
        ### BEGIN SOLUTION
        epsilon = torch.randn_like(mu)
        return mu + torch.exp(logsigma) * epsilon
        ### END SOLUTION

    def decoder(self, z):
        """Convert sampled latent variables z into the parameters of p(x | z).

        Args:
            z: Sampled latent variables, shape [batch_size, latent_dim]

        Returns:
            theta: Parameters of the Bernoulli likelihood, shape [batch_size, obs_dim],
                   values in (0, 1)
        """
        ### BEGIN SOLUTION
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))
        ### END SOLUTION

    def kl_divergence(self, mu, logsigma):
        """Compute the KL divergence between q(z) and the prior p(z) = N(0, I) in closed form.

        Args:
            mu: Means of q(z), shape [batch_size, latent_dim]
            logsigma: Log standard deviations of q(z), shape [batch_size, latent_dim]

        Returns:
            kl: KL(q(z) || p(z)) for each data point, shape [batch_size],
                summed over the latent dimensions, in nats
        """
        ### BEGIN SOLUTION
        variance = torch.exp(2 * logsigma)
        return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)
        ### END SOLUTION

    def elbo(self, x):
        """Estimate the ELBO of each data point with a single sample z ~ q(z).

        Args:
            x: Batch of data points, shape [batch_size, obs_dim], values in [0, 1]

        Returns:
            elbo: Estimate of the evidence lower bound for each data point,
                  shape [batch_size], in nats
        """
        ### BEGIN SOLUTION
        mu, logsigma = self.encoder(x)
        z = self.sample_with_reparam(mu, logsigma)
        theta = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy(theta, x, reduction="none").sum(dim=-1)
        return log_likelihood - self.kl_divergence(mu, logsigma)
        ### END SOLUTION

    def sample(self, num_samples):
        """Generate new data points from the model.

        Args:
            num_samples: Number of samples to generate, int

        Returns:
            x: Generated data points, shape [num_samples, obs_dim], values in {0, 1}
        """
        ### BEGIN SOLUTION
        z = torch.randn(num_samples, self.latent_dim, device=self.linear3.weight.device)
        return torch.bernoulli(self.decoder(z))
        ### END SOLUTION


# ### Check each method as you go
# Each cell below runs the grader's tests of one task on your `VAE`, here in your own kernel, and prints for
# each test what the grader would print: ✓ or ✗, the test's name and, when it fails, the grader's message
# (· when the check waits for a method it uses to pass its own checks first).
# Run a task's check once its method is written; re-run the `VAE` cell first after any change.
# 
# The checks need two files next to this notebook, handed out with it: `vae_check.py` (the grader's own
# tests and messages) and `checks_vae.npz` (inputs, and the values the course's reference computes from
# them; no solution code). A check passed is not yet the grade: the grader also reads your code for the
# rules above, runs the same tests on inputs of its own and trains your model. The grader ignores these
# cells: deleting or editing them costs nothing.

# In[5]:


from vae_check import check


# In[6]:


check("encoder", VAE)  # task 1


# In[7]:


check("sample_with_reparam", VAE)  # task 2


# In[8]:


check("decoder", VAE)  # task 3


# In[9]:


check("kl_divergence", VAE)  # task 4


# In[10]:


check("elbo", VAE)  # task 5


# In[11]:


check("sample", VAE)  # task 6


# ## Training
# We train the model by maximizing the ELBO averaged over each minibatch with Adam. The printed loss is the
# negative ELBO in nats per image: it should drop below about 120 within five epochs.

# In[12]:


obs_dim = 784  # MNIST images are of shape [1, 28, 28]
latent_dim = 32  # Size of the latent variable z
hidden_dim = 400  # Size of the hidden layer in the encoder / decoder

vae = VAE(obs_dim, latent_dim, hidden_dim).to(device)
opt = torch.optim.Adam(vae.parameters(), lr=1e-3)


# In[13]:


max_epochs = 5
display_step = 100
for epoch in range(max_epochs):
    print(f'Epoch {epoch}')
    for ix, batch in enumerate(train_loader):
        x, y = batch
        x = x.view(x.shape[0], obs_dim).to(device)  # we flatten the image into a 1D array
        opt.zero_grad()
        # We want to maximize the ELBO, so we minimize the negative ELBO
        loss = -vae.elbo(x).mean(-1)
        loss.backward()
        opt.step()
        if ix % display_step == 0:
            print(f'  loss = {loss.item():.2f}')


# ### Visualize samples generated by the model
# The samples look like handwritten digits, but not all of them are visually coherent: a fully-connected
# VAE with a Bernoulli likelihood trained for five epochs is a modest generative model. Convolutional
# encoders and decoders (`nn.Conv2d`, `nn.ConvTranspose2d`) do better, at a higher cost.

# In[14]:


with torch.no_grad():
    x = vae.sample(50)
vae_utils.visualize_vae_samples(x, num_rows=5, num_cols=10)


# ### Visualize the embeddings produced by the model
# We embed one test batch with the encoder and plot the means $\boldsymbol{\mu}$ in 2-D with t-SNE,
# coloured by the digit label:
# 
# 1. take a minibatch `x` of shape `[batch_size, obs_dim]`;
# 2. pass it through the encoder, `mu, logsigma = vae.encoder(x)`;
# 3. visualize the means `mu` with t-SNE.

# In[15]:


x, y = next(iter(test_loader))
x = x.view(x.shape[0], obs_dim).to(device)
vae_utils.visualize_embeddings(vae, x, y)


# The encoder assigns nearby means to images of the same digit: if $\mathbf{x}_i$ and $\mathbf{x}_j$
# show the same digit, $\boldsymbol{\mu}_i$ and $\boldsymbol{\mu}_j$ are close, so $\mathbf{z}_i$ and
# $\mathbf{z}_j$ likely are too.
