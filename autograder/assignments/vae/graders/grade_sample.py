"""Task 6, sample: z ~ N(0, I), theta = decoder(z), x ~ Bernoulli(theta), values in {0, 1}.

The submission's decoder is replaced by the reference one in the child, so a wrong decoder cannot cost
``sample`` points; hooks on linear3 and linear4 record the decoder's input z and output logits.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("sample.shapes")
def test_shapes(sub):
    """is the output of sample(num_samples) of shape (num_samples, obs_dim)?"""
    vae_check.vae_sample_shapes(sub)


@grades("sample.prior")
def test_prior(sub):
    """is the decoder's input z drawn from the prior N(0, I), of shape (num_samples, latent_dim)?"""
    vae_check.vae_sample_prior(sub)


@grades("sample.bernoulli")
def test_bernoulli(sub):
    """are the samples Bernoulli draws in {0, 1} with probabilities theta = decoder(z)?"""
    vae_check.vae_sample_bernoulli(sub)
