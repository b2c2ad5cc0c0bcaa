"""``datasets.MNIST`` of the stand-in torchvision: MNIST read from ``root/MNIST/raw`` by vae_utils."""
import vae_utils


class MNIST(vae_utils.MNIST):
    """torchvision's signature; items are ``(image, label)``, image float32 (1, 28, 28) in [0, 1] as
    ``transforms.ToTensor()`` makes it, then passed through ``transform``."""

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(train, root, download)
        self.transform = transform

    def __getitem__(self, index):
        image, label = super().__getitem__(index)
        return (self.transform(image) if self.transform else image), label
