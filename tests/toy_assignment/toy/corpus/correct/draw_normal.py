# expect: full marks
# why: draws with torch.normal, another correct way (measured by the false-failure run)
import torch
from torch import nn


class Toy(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def affine(self, x):
        return self.linear(x)

    def draw(self, mu, logsigma):
        return torch.normal(mu, torch.exp(logsigma))
