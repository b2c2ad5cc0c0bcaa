# expect: full marks
# why: an nbconvert export whose ConditionalVAE calls top-level helpers of the student's own cell (a constant, a function calling another)
#!/usr/bin/env python
# coding: utf-8

# # Convolutional and conditional variational autoencoders (95 pt)
# 
# In this notebook you build two variational autoencoders (VAEs) (Kingma & Welling 2014, *Auto-Encoding
# Variational Bayes*, [arXiv:1312.6114](https://arxiv.org/abs/1312.6114)) with a 2-D latent space, train them on
# MNIST and compare them with a given one:
# 
# - a **convolutional VAE**, `ConvVAE`, with exactly the architecture of this notebook's tables;
# - a **conditional VAE**, `ConditionalVAE`, built on it: the digit label conditions both networks, so that it
#   generates the digit you ask for (Sohn, Lee & Yan 2015, *Learning Structured Output Representation using Deep
#   Conditional Generative Models*, NeurIPS);
# - the given **MLP VAE**, `MLPVAE`, of about the same size (about 65,000 parameters per network), to compare with.
# 
# ### Your task
# Complete the missing code in `ConvVAE` and `ConditionalVAE`: every place marked `# YOUR CODE HERE` followed by
# `raise NotImplementedError()`. Replace both lines with your code. Each method must follow its docstring
# exactly: the shapes, the meaning and the units of what it returns. Then answer the four written questions in
# their cells, marked `YOUR ANSWER HERE`: replace that text with your answer.
# 
# | task | what you implement | points |
# |---|---|---|
# | 1 | `ConvVAE.__init__` | 10 |
# | 2 | `ConvVAE.encoder` | 5 |
# | 3 | `ConvVAE.decoder` | 5 |
# | 4 | `ConvVAE.loss` | 10 |
# | 5 | `ConditionalVAE.__init__` | 5 |
# | 6 | `ConditionalVAE.encoder` | 5 |
# | 7 | `ConditionalVAE.decoder` | 5 |
# | 8 | `ConditionalVAE.loss` | 5 |
# | 9 | `ConditionalVAE.sample` | 5 |
# | 10 | `ConditionalVAE.generate` | 5 |
# | | **the ten tasks** | **60** |
# | (a) | sketch the models | 4 |
# | (b) | why the latent codes centre on (0, 0) | 4 |
# | (f) | which model does better | 6 |
# | (h) | how the conditional VAE compares | 6 |
# | | **the written answers** | **20** |
# | | the training run: your `ConditionalVAE`, trained with your `loss` on 10,000 images, reaches a test-set ELBO of at least -205 nats | 5 |
# | | the digits it generates when asked for one, judged by a digit classifier, and a label that changes the image | 5 |
# | | the figures, saved in this notebook | 5 |
# | | **total** | **95** |
# 
# The training run, what the trained model generates and the figures saved in this notebook are graded too: the
# grader trains your `ConditionalVAE` with your `loss` on its own, and computes what it learned with its own code. The training and plotting code
# below is given: you do not write it, but it only works once your methods do. The written answers are graded
# by hand, with the figures they refer to.
# 
# ### Submitting
# Submit this notebook as **`cvae.ipynb`**. After you fill in all the missing code and the answers, **restart
# the kernel, run all cells, and save the notebook** before you submit it: the figures are graded from its saved
# outputs. Each method must work on its own, from its arguments and `self`, without variables of other cells.
# 
# ### Rules
# The following things are **not** allowed:
# - adding `import` statements (everything you need is imported in the first cell);
# - using the `torch.distributions` package.
# 
# This notebook runs top to bottom on a CPU in about 6 minutes, and unchanged on Google Colab: upload
# `vae_utils.py`, `vae_check.py` and `checks_cvae.npz` next to it (the last two run the checks after the
# classes). On a CPU it trains each model for 2 epochs, on a GPU for 20.

# In[ ]:


get_ipython().system('pip install -q torch')
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().run_line_magic('load_ext', 'autoreload')


# In[1]:


import time

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
# `vae_utils.load_mnist` reads MNIST from the folder named by the environment variable `MNIST_ROOT`
# (default `./data`), downloading the four files the first time. We keep each image as a tensor of shape
# $(1, 28, 28)$ (one channel of $28 \times 28$ pixel intensities in $[0, 1]$, the layout PyTorch's convolutions
# take), with its digit label, on `device`.

# In[2]:


def load(train):
    """MNIST's training (train=True) or test set on device: images (n, 1, 28, 28) in [0, 1], labels (n,) in 0-9."""
    images, labels = vae_utils.load_mnist(train)
    return images.unsqueeze(1).float().div(255).to(device), labels.to(device)


x_train, y_train = load(train=True)  # (60000, 1, 28, 28) in [0, 1], (60000,) digits
x_test, y_test = load(train=False)  # (10000, 1, 28, 28) in [0, 1], (10000,) digits
print(f"training set {tuple(x_train.shape)}, test set {tuple(x_test.shape)}")


# ## The objective
# 
# Each image $\mathbf{x} \in [0, 1]^{1 \times 28 \times 28}$ has a latent code $\mathbf{z} \in \mathbb{R}^2$ with
# the prior $p(\mathbf{z}) = \mathcal{N}(\mathbf{0}, \mathbf{I})$. The encoder gives the variational distribution
# $q(\mathbf{z} \mid \mathbf{x}) = \mathcal{N}(\boldsymbol{\mu}, \operatorname{diag}(\boldsymbol{\sigma}^2))$, as the
# mean $\boldsymbol{\mu}$ and the **log-variance** $\log \boldsymbol{\sigma}^2$ (`logvar`, as in Part 2), and the
# decoder the parameters $\boldsymbol{\theta} \in (0, 1)^{1 \times 28 \times 28}$ of the Bernoulli likelihood
# $p(\mathbf{x} \mid \mathbf{z}) = \prod_{j} \theta_j^{x_j} (1 - \theta_j)^{1 - x_j}$. We train by maximizing the
# evidence lower bound (ELBO) (Kingma & Welling 2014, eq. 10), that is by minimizing, per image, the loss
# 
# $$\ell(\mathbf{x}) = -\text{ELBO}(\mathbf{x}) = \underbrace{-\mathbb{E}_{\mathbf{z} \sim q(\mathbf{z} \mid \mathbf{x})}\left[\log p(\mathbf{x} \mid \mathbf{z})\right]}_{\text{reconstruction}}
# + \mathbb{KL}\left(q(\mathbf{z} \mid \mathbf{x}) \,\|\, p(\mathbf{z})\right),$$
# 
# the reconstruction term estimated with one sample $\mathbf{z}$ drawn with the reparameterization trick
# (Kingma & Welling 2014, section 2.4), $\mathbf{z} = \boldsymbol{\mu} + \exp(\tfrac{1}{2}\log\boldsymbol{\sigma}^2)
# \odot \boldsymbol{\epsilon}$ with $\boldsymbol{\epsilon} \sim \mathcal{N}(\mathbf{0}, \mathbf{I})$ (given), and the KL
# divergence in closed form (Kingma & Welling 2014, appendix B):
# 
# $$\mathbb{KL}\left(q(\mathbf{z} \mid \mathbf{x}) \,\|\, p(\mathbf{z})\right)
# = \frac{1}{2} \sum_{l=1}^{2} \left( \sigma_l^2 + \mu_l^2 - 1 - \log \sigma_l^2 \right).$$
# 
# The negative log-likelihood $-\log p(\mathbf{x} \mid \mathbf{z})$ is the binary cross-entropy between
# $\boldsymbol{\theta}$ and $\mathbf{x}$ summed over the 784 pixels. Every term is in nats.
# 
# ## The convolutional VAE
# 
# The architecture you build, in PyTorch's layout (channels first). Every kernel is $3 \times 3$; every layer is
# followed by a ReLU except the two heads (`fc_mu`, `fc_logvar`) and the last layer, `deconv3`, followed by a
# sigmoid.
# 
# | encoder layer | | output shape | parameters |
# |---|---|---|---|
# | input $\mathbf{x}$ | | $1 \times 28 \times 28$ | |
# | `conv1` | `nn.Conv2d`, 1 → 32 channels | $32 \times 14 \times 14$ | 320 |
# | `conv2` | `nn.Conv2d`, 32 → 64 channels | $64 \times 7 \times 7$ | 18,496 |
# | flatten | | 3136 | |
# | `fc` | `nn.Linear` | 14 | 43,918 |
# | `fc_mu` | `nn.Linear`, the mean $\boldsymbol{\mu}$ | 2 | 30 |
# | `fc_logvar` | `nn.Linear`, the log-variance $\log\boldsymbol{\sigma}^2$ | 2 | 30 |
# | | | **total** | **62,794** |
# 
# | decoder layer | | output shape | parameters |
# |---|---|---|---|
# | input $\mathbf{z}$ | | 2 | |
# | `fc_dec` | `nn.Linear` | 3136 | 9,408 |
# | reshape | | $64 \times 7 \times 7$ | |
# | `deconv1` | `nn.ConvTranspose2d`, 64 → 64 channels | $64 \times 14 \times 14$ | 36,928 |
# | `deconv2` | `nn.ConvTranspose2d`, 64 → 32 channels | $32 \times 28 \times 28$ | 18,464 |
# | `deconv3` | `nn.ConvTranspose2d`, 32 → 1 channel | $1 \times 28 \times 28$ | 289 |
# | | | **total** | **65,089** |
# 
# ### Task 1: The layers (10 pt)
# Define the eleven layers of the tables in `__init__`, under exactly these names. Choose each convolution's
# `stride` and `padding`, and each transposed convolution's `stride`, `padding` and `output_padding`, so that
# every layer gives the output shape of the table. The output size of
# [`nn.Conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html) along each side is
# $\lfloor (\text{in} + 2\,\text{padding} - \text{kernel}) / \text{stride} \rfloor + 1$, and that of
# [`nn.ConvTranspose2d`](https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html)
# $(\text{in} - 1)\,\text{stride} - 2\,\text{padding} + \text{kernel} + \text{output\_padding}$.
# 
# ### Task 2: Encoder (5 pt)
# $$\mathbf{h} = \operatorname{ReLU}(\texttt{fc}(\operatorname{flatten}(\operatorname{ReLU}(\texttt{conv2}(\operatorname{ReLU}(\texttt{conv1}(\mathbf{x}))))))), \qquad
# \boldsymbol{\mu} = \texttt{fc\_mu}(\mathbf{h}), \qquad \log \boldsymbol{\sigma}^2 = \texttt{fc\_logvar}(\mathbf{h}).$$
# 
# ### Task 3: Decoder (5 pt)
# $$\boldsymbol{\theta} = \operatorname{sigmoid}(\texttt{deconv3}(\operatorname{ReLU}(\texttt{deconv2}(\operatorname{ReLU}(\texttt{deconv1}(\operatorname{reshape}(\operatorname{ReLU}(\texttt{fc\_dec}(\mathbf{z}))))))))),$$
# reshaping each row of 3136 values to $64 \times 7 \times 7$.
# 
# ### Task 4: Loss (10 pt)
# `loss(x)` returns $\ell(\mathbf{x})$ of each image: one value per image, shape `(batch,)`, in nats (the
# training loop averages them over the minibatch). Write it with `self.encoder`, `self.reparameterize` and
# `self.decoder`: the given MLP VAE below uses your `loss` too.

# In[ ]:


DIGITS = 10
CODES = torch.eye(DIGITS)


def _as_long(c):
    return c.long()


def one_hot(c, dtype):
    """One row of CODES per label, on the labels' device."""
    return CODES.to(c.device, dtype)[_as_long(c)]


# In[3]:


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=2):
        """Initialize the convolutional VAE: every kernel 3 x 3, the shapes and parameter counts below
        (for latent_dim = 2).

        Encoder (62,794 parameters), images x of shape [batch_size, 1, 28, 28]:
            conv1      nn.Conv2d            [batch_size, 1, 28, 28]  -> [batch_size, 32, 14, 14]      320
            conv2      nn.Conv2d            [batch_size, 32, 14, 14] -> [batch_size, 64, 7, 7]     18,496
            (flatten)                       [batch_size, 64, 7, 7]   -> [batch_size, 3136]
            fc         nn.Linear            [batch_size, 3136]       -> [batch_size, 14]           43,918
            fc_mu      nn.Linear            [batch_size, 14]         -> [batch_size, latent_dim]       30
            fc_logvar  nn.Linear            [batch_size, 14]         -> [batch_size, latent_dim]       30
        Decoder (65,089 parameters), codes z of shape [batch_size, latent_dim]:
            fc_dec     nn.Linear            [batch_size, latent_dim] -> [batch_size, 3136]          9,408
            (reshape)                       [batch_size, 3136]       -> [batch_size, 64, 7, 7]
            deconv1    nn.ConvTranspose2d   [batch_size, 64, 7, 7]   -> [batch_size, 64, 14, 14]   36,928
            deconv2    nn.ConvTranspose2d   [batch_size, 64, 14, 14] -> [batch_size, 32, 28, 28]   18,464
            deconv3    nn.ConvTranspose2d   [batch_size, 32, 28, 28] -> [batch_size, 1, 28, 28]       289

        Args:
            latent_dim: Dimension of the latent variable z, int
        """
        super().__init__()
        self.latent_dim = latent_dim
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 14)
        self.fc_mu = nn.Linear(14, latent_dim)
        self.fc_logvar = nn.Linear(14, latent_dim)
        self.fc_dec = nn.Linear(latent_dim, 64 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 64, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.deconv2 = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.deconv3 = nn.ConvTranspose2d(32, 1, kernel_size=3, stride=1, padding=1)
        ### END SOLUTION

    def encoder(self, x):
        """Obtain the parameters of q(z | x) for a batch of images.

        Args:
            x: Batch of images, shape [batch_size, 1, 28, 28], values in [0, 1] (the ConditionalVAE passes
               [batch_size, 11, 28, 28]: the image and its label's 10 planes, as conv1 takes)

        Returns:
            mu: Means of q(z | x), shape [batch_size, latent_dim]
            logvar: Log-variances log sigma^2 of q(z | x), shape [batch_size, latent_dim]
        """
        ### BEGIN SOLUTION
        hidden = F.relu(self.conv2(F.relu(self.conv1(x))))
        hidden = F.relu(self.fc(hidden.flatten(start_dim=1)))
        return self.fc_mu(hidden), self.fc_logvar(hidden)
        ### END SOLUTION

    def reparameterize(self, mu, logvar):
        """Draw one sample z ~ q(z | x) per row with the reparameterization trick, with fresh noise per call.

        Args:
            mu: Means of q(z | x), shape [batch_size, latent_dim]
            logvar: Log-variances of q(z | x), shape [batch_size, latent_dim]

        Returns:
            z: Samples, shape [batch_size, latent_dim], differentiable with respect to mu and logvar
        """
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decoder(self, z):
        """Convert latent codes z into the parameters of the Bernoulli likelihood p(x | z).

        Args:
            z: Latent codes, shape [batch_size, latent_dim] (the ConditionalVAE passes [batch_size,
               latent_dim + 10]: the code and its label's one-hot vector, as fc_dec takes)

        Returns:
            theta: Pixel probabilities, shape [batch_size, 1, 28, 28], values in (0, 1)
        """
        ### BEGIN SOLUTION
        hidden = F.relu(self.fc_dec(z)).view(-1, 64, 7, 7)
        hidden = F.relu(self.deconv2(F.relu(self.deconv1(hidden))))
        return torch.sigmoid(self.deconv3(hidden))
        ### END SOLUTION

    def loss(self, x):
        """The negative ELBO of each image: the reconstruction term plus the closed-form KL divergence.

        Args:
            x: Batch of images, shape [batch_size, 1, 28, 28], values in [0, 1]

        Returns:
            loss: -log p(x | z) with one z ~ q(z | x), summed over the 784 pixels, plus KL(q(z | x) || p(z)),
                  shape [batch_size], in nats
        """
        ### BEGIN SOLUTION
        mu, logvar = self.encoder(x)
        theta = self.decoder(self.reparameterize(mu, logvar))
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").flatten(start_dim=1).sum(dim=-1)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
        return reconstruction + kl
        ### END SOLUTION


# ### Check each method as you go
# Each cell below runs the grader's tests of one task on your `ConvVAE`, here in your own kernel, and prints for
# each test what the grader would print: ✓ or ✗, the test's name and, when it fails, the grader's message
# (· when the check waits for a method it uses to pass its own checks first, or leaves a test to the grader).
# Run a task's check once its method is written; re-run the class cell first after any change.
# 
# The checks need two files next to this notebook, handed out with it: `vae_check.py` (the grader's own
# tests and messages) and `checks_cvae.npz` (inputs, and the values the course's reference computes from
# them; no solution code). A check passed is not yet the grade: the grader also reads your code for the
# rules above, runs the same tests on inputs of its own, runs its own encoder and decoder through your layers
# and trains your model. The grader ignores these cells: deleting or editing them costs nothing.

# In[4]:


from vae_check import check


# In[5]:


check("conv_layers", ConvVAE)  # task 1


# In[6]:


check("conv_encoder", ConvVAE)  # task 2


# In[7]:


check("conv_decoder", ConvVAE)  # task 3


# In[8]:


check("conv_loss", ConvVAE)  # task 4


# ## The MLP VAE (given)
# 
# The model to compare with: one hidden layer of 82 units in each network, chosen so that each network has about
# as many parameters as the convolutional one's (printed below). It has the same interface as `ConvVAE`:
# images of shape `(batch, 1, 28, 28)`, which the encoder flattens into 784 values, and it borrows `ConvVAE`'s
# `reparameterize` and your `loss`, so both models are trained on exactly the same objective.
# 
# $$\mathbf{h} = \operatorname{ReLU}(\texttt{enc\_hidden}(\mathbf{x})), \quad
# \boldsymbol{\mu} = \texttt{enc\_mu}(\mathbf{h}), \quad \log \boldsymbol{\sigma}^2 = \texttt{enc\_logvar}(\mathbf{h}),
# \qquad
# \boldsymbol{\theta} = \operatorname{sigmoid}(\texttt{dec\_out}(\operatorname{ReLU}(\texttt{dec\_hidden}(\mathbf{z})))).$$

# In[9]:


class MLPVAE(nn.Module):
    def __init__(self, hidden_dim=82, latent_dim=2):
        """A VAE whose encoder and decoder each have one hidden layer of hidden_dim units (given).

        Args:
            hidden_dim: Hidden units of each network, int (82: 64,702 encoder and 65,318 decoder parameters)
            latent_dim: Dimension of the latent variable z, int
        """
        super().__init__()
        self.latent_dim = latent_dim
        self.enc_hidden = nn.Linear(28 * 28, hidden_dim)
        self.enc_mu = nn.Linear(hidden_dim, latent_dim)
        self.enc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.dec_hidden = nn.Linear(latent_dim, hidden_dim)
        self.dec_out = nn.Linear(hidden_dim, 28 * 28)

    def encoder(self, x):
        """(mu, logvar) of q(z | x), each [batch_size, latent_dim], for images x of shape [batch_size, 1, 28, 28]."""
        hidden = F.relu(self.enc_hidden(x.flatten(start_dim=1)))
        return self.enc_mu(hidden), self.enc_logvar(hidden)

    def decoder(self, z):
        """Pixel probabilities theta, [batch_size, 1, 28, 28] in (0, 1), for codes z of shape [batch_size, latent_dim]."""
        return torch.sigmoid(self.dec_out(F.relu(self.dec_hidden(z)))).view(-1, 1, 28, 28)

    reparameterize = ConvVAE.reparameterize  # the same reparameterization trick
    loss = ConvVAE.loss  # your loss: it only calls self.encoder, self.reparameterize and self.decoder


# ## The conditional VAE
# 
# In a VAE we have no control over what it generates: to make a "3" we must find where the 3s lie in the
# latent space. The conditional VAE (CVAE) conditions both networks on the digit label $c$: the encoder gives
# $q(\mathbf{z} \mid \mathbf{x}, c)$, the decoder $p(\mathbf{x} \mid \mathbf{z}, c)$, and to generate a digit $c$ we
# decode $\mathbf{z} \sim p(\mathbf{z} \mid c)$ with the label $c$. Its ELBO (Sohn, Lee & Yan 2015) is
# 
# $$\text{ELBO}(\mathbf{x}, c) = \mathbb{E}_{\mathbf{z} \sim q(\mathbf{z} \mid \mathbf{x}, c)}\left[\log p(\mathbf{x} \mid \mathbf{z}, c)\right]
# - \mathbb{KL}\left(q(\mathbf{z} \mid \mathbf{x}, c) \,\|\, p(\mathbf{z} \mid c)\right).$$
# 
# Note the **minus** sign. As for the VAE, the ELBO is a
# lower bound of $\log p(\mathbf{x} \mid c)$ because the KL divergence, which is never negative, is subtracted;
# adding it would reward the encoder for moving away from the prior. We minimize
# $\ell(\mathbf{x}, c) = -\text{ELBO}(\mathbf{x}, c)$.
# 
# We fix one way to join $c$ to the networks' inputs (so that your model can be checked value by value), with
# $\operatorname{onehot}(c) \in \{0, 1\}^{10}$ the vector whose entry $c$ is 1:
# 
# - **encoder:** the 10 entries of $\operatorname{onehot}(c)$ become 10 constant $28 \times 28$ planes appended to
#   the image's channel: the input of `conv1` is $11 \times 28 \times 28$, the image first, then plane $k$ all ones
#   if $k = c$ and all zeros otherwise;
# - **decoder:** $\operatorname{onehot}(c)$ is appended to $\mathbf{z}$: the input of `fc_dec` is
#   $(\mathbf{z}, \operatorname{onehot}(c)) \in \mathbb{R}^{12}$, $\mathbf{z}$ first;
# - **prior:** $p(\mathbf{z} \mid c) = \mathcal{N}(\mathbf{0}, \mathbf{I})$ for every $c$, so the KL term is the
#   same formula as above.
# 
# `ConditionalVAE` inherits from `ConvVAE`: every other layer, and `reparameterize`, stay as they are.
# `ConvVAE.encoder` and `ConvVAE.decoder` take any input that `conv1` and `fc_dec` take, so you may call them
# (`super().encoder(...)`) on the joined inputs.
# 
# ### Task 5: The layers that change (5 pt)
# In `__init__`, replace `conv1` by a convolution that takes the 11 channels (3,200 parameters) and `fc_dec` by a
# linear layer that takes the 12 values (40,768 parameters), with the same output shapes as before.
# 
# ### Task 6: Encoder (5 pt)
# `encoder(x, c)`: $(\boldsymbol{\mu}, \log\boldsymbol{\sigma}^2)$ of $q(\mathbf{z} \mid \mathbf{x}, c)$, the
# convolutional encoder applied to the image with its 10 label planes. `F.one_hot` may be useful.
# 
# ### Task 7: Decoder (5 pt)
# `decoder(z, c)`: $\boldsymbol{\theta}$ of $p(\mathbf{x} \mid \mathbf{z}, c)$, the convolutional decoder applied to
# $(\mathbf{z}, \operatorname{onehot}(c))$.
# 
# ### Task 8: Loss (5 pt)
# `loss(x, c)`: $\ell(\mathbf{x}, c)$ of each image, shape `(batch,)`, in nats: the reconstruction term with one
# sample $\mathbf{z} \sim q(\mathbf{z} \mid \mathbf{x}, c)$, plus the KL divergence.
# 
# ### Task 9: Sample (5 pt)
# `sample(c)`: one new image per label: $\boldsymbol{\theta}$ decoded at $\mathbf{z} \sim \mathcal{N}(\mathbf{0}, \mathbf{I})$
# (a fresh code per row) with the label $c$.
# 
# ### Task 10: Generate (5 pt)
# `generate(digits, n)`: $n$ samples of each digit of `digits` in turn ($n$ of `digits[0]`, then $n$ of
# `digits[1]`, ...), drawn with `sample`.

# In[10]:


class ConditionalVAE(ConvVAE):
    num_classes = 10  # the digits 0-9

    def __init__(self, latent_dim=2):
        """Initialize the conditional VAE: ConvVAE's layers, two of them taking the label too (for latent_dim = 2).

        Changed layers (the others are ConvVAE's):
            conv1      nn.Conv2d            [batch_size, 11, 28, 28] -> [batch_size, 32, 14, 14]    3,200
            fc_dec     nn.Linear            [batch_size, 12]         -> [batch_size, 3136]         40,768
        Encoder: 65,674 parameters; decoder: 96,449.

        Args:
            latent_dim: Dimension of the latent variable z, int
        """
        super().__init__(latent_dim)
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(1 + self.num_classes, 32, kernel_size=3, stride=2, padding=1)
        self.fc_dec = nn.Linear(latent_dim + self.num_classes, 64 * 7 * 7)
        ### END SOLUTION

    def encoder(self, x, c):
        """Obtain the parameters of q(z | x, c) for a batch of images and their labels.

        Args:
            x: Batch of images, shape [batch_size, 1, 28, 28], values in [0, 1]
            c: Their digit labels, int64 Tensor of shape [batch_size], values in {0, ..., 9}

        Returns:
            mu: Means of q(z | x, c), shape [batch_size, latent_dim]
            logvar: Log-variances log sigma^2 of q(z | x, c), shape [batch_size, latent_dim]
        """
        ### BEGIN SOLUTION
        planes = one_hot(c, x.dtype)[:, :, None, None].expand(-1, -1, 28, 28)
        return super().encoder(torch.cat([x, planes], dim=1))
        ### END SOLUTION

    def decoder(self, z, c):
        """Convert latent codes z and labels c into the parameters of the Bernoulli likelihood p(x | z, c).

        Args:
            z: Latent codes, shape [batch_size, latent_dim]
            c: Digit labels, int64 Tensor of shape [batch_size], values in {0, ..., 9}

        Returns:
            theta: Pixel probabilities, shape [batch_size, 1, 28, 28], values in (0, 1)
        """
        ### BEGIN SOLUTION
        return super().decoder(torch.cat([z, one_hot(c, z.dtype)], dim=1))
        ### END SOLUTION

    def loss(self, x, c):
        """The negative ELBO of each image given its label: reconstruction term plus closed-form KL divergence.

        Args:
            x: Batch of images, shape [batch_size, 1, 28, 28], values in [0, 1]
            c: Their digit labels, int64 Tensor of shape [batch_size], values in {0, ..., 9}

        Returns:
            loss: -log p(x | z, c) with one z ~ q(z | x, c), summed over the 784 pixels, plus
                  KL(q(z | x, c) || p(z | c)) with p(z | c) = N(0, I), shape [batch_size], in nats
        """
        ### BEGIN SOLUTION
        mu, logvar = self.encoder(x, c)
        theta = self.decoder(self.reparameterize(mu, logvar), c)
        reconstruction = F.binary_cross_entropy(theta, x, reduction="none").flatten(start_dim=1).sum(dim=-1)
        return reconstruction + 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)
        ### END SOLUTION

    def sample(self, c):
        """Generate one image per label: decode a fresh z ~ N(0, I) per row with the label c.

        Args:
            c: Digit labels, int64 Tensor of shape [num_samples], values in {0, ..., 9}, on the model's device

        Returns:
            theta: Pixel probabilities, shape [num_samples, 1, 28, 28], values in (0, 1)
        """
        ### BEGIN SOLUTION
        z = torch.randn(len(c), self.latent_dim, device=c.device)
        return self.decoder(z, c)
        ### END SOLUTION

    def generate(self, digits, n):
        """Generate n images of each digit asked for, digit by digit, with sample.

        Args:
            digits: The digits to generate, a sequence of ints (or a 1-D int Tensor) in {0, ..., 9}
            n: Images per digit, int >= 1

        Returns:
            theta: Pixel probabilities, shape [len(digits) * n, 1, 28, 28], values in (0, 1): rows 0 to n - 1
                   show digits[0], rows n to 2n - 1 digits[1], and so on
        """
        ### BEGIN SOLUTION
        labels = torch.as_tensor(digits, dtype=torch.long, device=self.fc_dec.weight.device)
        return self.sample(labels.repeat_interleave(n))
        ### END SOLUTION


# ### Check each method as you go
# The checks of tasks 5 to 10, as above for the `ConvVAE` (they run your `ConvVAE`'s methods where the `ConditionalVAE` calls them: check those first).

# In[11]:


check("cond_layers", ConditionalVAE)  # task 5


# In[12]:


check("cond_encoder", ConditionalVAE)  # task 6


# In[13]:


check("cond_decoder", ConditionalVAE)  # task 7


# In[14]:


check("cond_loss", ConditionalVAE)  # task 8


# In[15]:


check("sample", ConditionalVAE)  # task 9


# In[16]:


check("generate", ConditionalVAE)  # task 10


# ### The three models' sizes
# Parameters of each network, counted from the models (the encoder: the layers that compute $\boldsymbol{\mu}$
# and $\log\boldsymbol{\sigma}^2$; the decoder: the others). The conditional VAE's two joined layers make it
# larger, its decoder most: `fc_dec` gets 10 more inputs, each with 3136 weights.

# In[17]:


ENCODER_LAYERS = {"conv1", "conv2", "fc", "fc_mu", "fc_logvar", "enc_hidden", "enc_mu", "enc_logvar"}


def network_sizes(model):
    """Trainable parameters of model's encoder (its layers named in ENCODER_LAYERS) and of its decoder (the rest)."""
    counts = {name: sum(p.numel() for p in layer.parameters()) for name, layer in model.named_children()}
    encoder = sum(count for name, count in counts.items() if name in ENCODER_LAYERS)
    return encoder, sum(counts.values()) - encoder


models = {"MLP VAE": MLPVAE(), "ConvVAE": ConvVAE(), "CVAE": ConditionalVAE()}
print(f"{'model':<10}{'encoder':>10}{'decoder':>10}")
for name, model in models.items():
    print(f"{name:<10}" + "".join(f"{count:>10,}" for count in network_sizes(model)))


# ### Question (a) (4 pt)
# Does the given MLP VAE have convolutional layers? Sketch the MLP VAE and your convolutional VAE: each layer
# with the shape of what it outputs, the activations, where $\boldsymbol{\mu}$, $\log\boldsymbol{\sigma}^2$ and
# the sampling of $\mathbf{z}$ are, and what the decoder outputs. A text diagram in this cell is enough (you may
# also attach an image to the cell).

# No: the MLP VAE has only fully connected layers; the convolutional VAE has two convolutions in its encoder
# and three transposed convolutions in its decoder.
# 
# ```
# MLP VAE     x (1,28,28) -> flatten 784 -> Linear 82 + ReLU -> Linear 2: mu
#                                                            -> Linear 2: logvar
#             z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)           (2)
#             z -> Linear 82 + ReLU -> Linear 784 + sigmoid -> theta (1,28,28)
# 
# ConvVAE     x (1,28,28) -> Conv 3x3 s2 p1, 32 + ReLU (32,14,14) -> Conv 3x3 s2 p1, 64 + ReLU (64,7,7)
#                 -> flatten 3136 -> Linear 14 + ReLU -> Linear 2: mu,  Linear 2: logvar
#             z = mu + exp(logvar / 2) * eps                            (2)
#             z -> Linear 3136 + ReLU -> reshape (64,7,7)
#                 -> ConvT 3x3 s2 p1 op1, 64 + ReLU (64,14,14) -> ConvT 3x3 s2 p1 op1, 32 + ReLU (32,28,28)
#                 -> ConvT 3x3 s1 p1, 1 + sigmoid -> theta (1,28,28), Bernoulli pixel probabilities
# ```
# 
# The conditional VAE is the ConvVAE with the label's one-hot vector as 10 constant planes beside the image at the
# encoder's input (11 channels) and beside z at the decoder's input (12 numbers).

# ## Training
# The code of this section is given. `train` first re-initializes every layer of the model with the
# initialization of He et al. (2015, *Delving Deep into Rectifiers*) for ReLU networks: weights drawn from
# $\mathcal{N}(0, 2 / \text{fan-in})$, biases 0. It then minimizes the mean of the model's `loss` over minibatches of
# 128 training images with Adam (learning rate $10^{-3}$), for `epochs` passes over the whole training set, and
# prints the test-set ELBO after each. The test-set ELBO is minus the mean loss over the 10,000 test images (one
# $\mathbf{z}$ per image, drawn with a fixed seed), in nats per image: higher is better.
# 
# Why the initialization: with PyTorch's default one, the 14 units of `fc` give almost the same value for every
# image, and Adam's first updates push about half of them below zero for every image at once. Such a ReLU unit
# is "dead": its gradient is 0, so it never comes back. With one unit left, the codes of all images lie on a line;
# with none, the encoder ignores the image, $q(\mathbf{z} \mid \mathbf{x}, c) = \mathcal{N}(\mathbf{0}, \mathbf{I})$
# for every image (the "posterior collapse" that Bowman et al. 2016 describe), which is what the conditional VAE,
# whose decoder can do well from the label alone, does within its first 100 updates.
# 
# The three models get the same training: 2 epochs each on a CPU (2 × 469 minibatches; about 2 minutes for each
# convolutional model), 20 on a GPU.

# In[18]:


def model_loss(model, x, c):
    """The per-image loss (batch,) of any of the three models; the conditional VAE is also given the labels c."""
    return model.loss(x, c) if isinstance(model, ConditionalVAE) else model.loss(x)


def test_elbo(model, seed=0):
    """The test-set ELBO of model: minus its mean loss over the 10,000 test images, in nats per image."""
    with torch.no_grad(), torch.random.fork_rng(devices=range(torch.cuda.device_count())):
        torch.manual_seed(seed)  # the same noise for every evaluation
        losses = [model_loss(model, x, c) for x, c in zip(x_test.split(1000), y_test.split(1000))]
    return -torch.cat(losses).mean().item()


def he_init(model):
    """Re-initialize every layer of model (its Linear, Conv2d and ConvTranspose2d children): weights from He et al.'s
    normal distribution for ReLU layers, biases 0."""
    for layer in model.children():
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)


def train(model, name, epochs, batch_size=128):
    """Re-initialize model (he_init), then train it on x_train (and y_train) for `epochs` epochs; returns the
    seconds spent in the updates."""
    he_init(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        for batch in torch.randperm(len(x_train), device=device).split(batch_size):
            opt.zero_grad()
            model_loss(model, x_train[batch], y_train[batch]).mean().backward()
            opt.step()
        seconds += time.perf_counter() - start
        print(f"{name}, epoch {epoch + 1}: test ELBO {test_elbo(model):.1f} nats ({seconds:.0f} s)")
    return seconds


# In[19]:


epochs = 20 if device.type == "cuda" else 2
seconds = {}
for name, model in models.items():
    seconds[name] = train(model.to(device), name, epochs)
mlp, conv, cvae = (model.eval() for model in models.values())


# ### Which model does better? (Question (f))
# After the same training, the test-set ELBO of each model (higher is better; the CVAE's is the ELBO of
# $\log p(\mathbf{x} \mid c)$, given the label):

# In[20]:


print(f"{'model':<10}{'encoder':>10}{'decoder':>10}{'training (s)':>14}{'test ELBO (nats)':>18}")
for name, model in models.items():
    sizes = "".join(f"{count:>10,}" for count in network_sizes(model))
    print(f"{name:<10}{sizes}{seconds[name]:>14.0f}{test_elbo(model):>18.1f}")


# ## The latent spaces
# For each model: the encoder means $\boldsymbol{\mu}$ of the 10,000 test images, coloured by digit (Question (b));
# the images decoded from a $15 \times 15$ grid over the square that holds the middle 98% of those means on both
# axes, the region the clusters cover; and the image decoded at $\mathbf{z} = (0, 0)$.

# In[21]:


def test_means(model):
    """The encoder means mu (10000, 2) of the test images (each with its label, for the conditional VAE)."""
    with torch.no_grad():
        if isinstance(model, ConditionalVAE):
            return torch.cat([model.encoder(x, c)[0] for x, c in zip(x_test.split(1000), y_test.split(1000))])
        return torch.cat([model.encoder(x)[0] for x in x_test.split(1000)])


def cluster_region(mu, share=0.98):
    """(low, high): the square [low, high]^2 that holds the middle `share` of the codes mu (n, 2) on both axes."""
    tail = torch.tensor([(1 - share) / 2, (1 + share) / 2], device=mu.device)
    low, high = torch.quantile(mu, tail, dim=0)
    return low.min().item(), high.max().item()


def latent_grid(decode, n, low, high):
    """decode(z) of an n x n grid of codes z over [low, high]^2, in plot_manifold's order: z1 increases along a
    row, z2 decreases down the rows."""
    values = torch.linspace(low, high, n, device=device)
    z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
    with torch.no_grad():
        return decode(torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1))


origin = torch.zeros(1, 2, device=device)  # z = (0, 0)


# ### The MLP VAE

# In[22]:


mu = test_means(mlp)
vae_utils.plot_latent_scatter(mu, y_test, title="MLP VAE: encoder means of the 10,000 test images")


# In[23]:


low, high = cluster_region(mu)
print(f"the clusters cover [{low:.2f}, {high:.2f}] on both axes")
vae_utils.plot_manifold(latent_grid(mlp.decoder, 15, low, high), 15, (low, high), title="MLP VAE: decoded grid")
with torch.no_grad():
    vae_utils.plot_image_row(mlp.decoder(origin), ["z = (0, 0)"], title="MLP VAE")


# ### The convolutional VAE

# In[24]:


mu = test_means(conv)
vae_utils.plot_latent_scatter(mu, y_test, title="ConvVAE: encoder means of the 10,000 test images")


# In[25]:


low, high = cluster_region(mu)
print(f"the clusters cover [{low:.2f}, {high:.2f}] on both axes")
vae_utils.plot_manifold(latent_grid(conv.decoder, 15, low, high), 15, (low, high), title="ConvVAE: decoded grid")
with torch.no_grad():
    vae_utils.plot_image_row(conv.decoder(origin), ["z = (0, 0)"], title="ConvVAE")


# ### Question (b) (4 pt)
# In theory, the latent codes of the digits should be clustered and centred about $(0, 0)$. Explain why, from
# the objective the models are trained on, and say whether your plots show it.

# The loss has the KL term KL(q(z|x) || N(0, I)) for every image: it is smallest when each code's mean is
# near 0 and its variance near 1, so the encoder is pulled to place the codes of all images around the origin,
# within a few units, where the prior N(0, I) has its mass. The reconstruction term pulls the other way (it wants
# codes that tell the digits apart), so the digits form clusters, but the clusters share the space around (0, 0)
# instead of drifting apart, and the aggregate of all codes approximates the prior. The plots show it: the codes
# lie within about [-4, 4] (MLP VAE) and [-3, 2.5] (ConvVAE) on both axes, centred near the origin, with one
# cluster per digit.

# ### Question (f) (6 pt)
# The MLP VAE and the convolutional VAE have about the same number of trainable parameters, about 65,000 per
# network. Which model does better? Answer from the table of test-set ELBOs and from the figures, and explain
# what you observe.

# The convolutional VAE does better at about the same size: after the same 2 epochs its test-set ELBO is
# -170.4 nats against -175.9 for the MLP VAE (higher is better): it explains the test images better with
# the same two latent dimensions. Convolutions share their 3 x 3 kernels over every position of the image, so the same number of
# parameters is spent on local strokes that appear anywhere, and the networks are deeper (two convolutions, then a
# small dense layer) for the same budget; the MLP spends almost all of its 65,000 parameters on one dense layer of
# 784 x 82 weights per network. The price is computation: the ConvVAE took about 12 times longer to train here.

# ### The conditional VAE (Question (h))
# The encoder means of the test images, each encoded with its own label; the grid decoded with one label
# (change `digit` to see another); and the ten images decoded at $\mathbf{z} = (0, 0)$, one per label.

# In[26]:


mu = test_means(cvae)
vae_utils.plot_latent_scatter(mu, y_test, title="CVAE: encoder means of the 10,000 test images, given their labels")


# In[27]:


digit = 8
low, high = cluster_region(mu)
print(f"the codes cover [{low:.2f}, {high:.2f}] on both axes")
labels = torch.full((15 * 15,), digit, device=device)
grid = latent_grid(lambda z: cvae.decoder(z, labels), 15, low, high)
vae_utils.plot_manifold(grid, 15, (low, high), title=f"CVAE: decoded grid with the label c = {digit}")
with torch.no_grad():
    at_origin = cvae.decoder(origin.expand(10, -1), torch.arange(10, device=device))
vae_utils.plot_image_row(at_origin, [f"c = {d}" for d in range(10)], title="CVAE: decoded at z = (0, 0)")


# ### The digit you ask for
# `generate(range(10), 8)`: row $d$ shows 8 images generated with the label $d$.

# In[28]:


with torch.no_grad():
    asked = cvae.generate(range(10), 8)
vae_utils.plot_digit_grid(asked, 8, title="CVAE: generate(range(10), 8)")


# ### The label matters
# Each column decodes one code $\mathbf{z} \sim \mathcal{N}(\mathbf{0}, \mathbf{I})$ with each of the ten labels:
# the label chooses the digit, the code its style.

# In[29]:


z = torch.randn(8, 2, device=device)
with torch.no_grad():
    styles = cvae.decoder(z.repeat(10, 1), torch.arange(10, device=device).repeat_interleave(8))
vae_utils.plot_digit_grid(styles, 8, title="CVAE: one z per column, the label c per row")


# ### Question (h) (6 pt)
# Compare the conditional VAE with your convolutional VAE: the test-set ELBO, the latent plot (why does it look
# so different?), the decoded grid and the image at $\mathbf{z} = (0, 0)$, and the digits it generates when
# asked for one.

# The conditional VAE reaches a much better test-set ELBO (-141.7 nats against -170.4 for the ConvVAE
# after the same training): the label gives the decoder the digit's identity for free, so z only has to encode
# the style. That is why its latent plot looks so different: the digits are not in separate clusters but mixed
# together in one cloud near the origin (only the thin 1s sit a little apart), since the code no longer needs to tell them apart; z now holds slant,
# thickness and width. Its decoded grid therefore shows the same digit changing style across the plane (for the
# label it is given), and the image at z = (0, 0) is an average-style version of whichever digit is asked for,
# where the ConvVAE decodes one blurry digit of the region near the origin. And it generates the digit you ask
# for: each row of its grid shows the requested digit, where an unconditional VAE can only be steered by searching
# the latent plot for that digit's region.
