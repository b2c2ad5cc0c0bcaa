# expect: bug in affine
# message: forgets the bias
import torch
from torch import nn


class Toy(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def affine(self, x):
        return x @ self.linear.weight.T

    def draw(self, mu, logsigma):
        return mu + torch.exp(logsigma) * torch.randn_like(mu)
