# expect: full marks
# why: the affine map written out with the layer's weight and bias
import torch
from torch import nn


class Toy(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def affine(self, x):
        return x @ self.linear.weight.T + self.linear.bias

    def draw(self, mu, logsigma):
        return mu + torch.exp(logsigma) * torch.randn_like(mu)
