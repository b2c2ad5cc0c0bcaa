# expect: bug in draw
# message: standard deviation
import torch
from torch import nn


class Toy(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def affine(self, x):
        return self.linear(x)

    def draw(self, mu, logsigma):
        return mu + torch.exp(2 * logsigma) * torch.randn_like(mu)
