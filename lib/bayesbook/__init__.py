"""Shared code for the lecture book *Bayesian inference with non-conjugate priors*.

One module per concept; import the one you need, for example
``from bayesbook import data, exact, plotting``. Importing the package itself
is cheap: NumPyro, JAX, PyTorch and Pyro are imported only by the modules that
use them.

Modules
-------
data
    Simulating coin-flip (Bernoulli) data and counting successes.
exact
    Closed-form results: the Beta posterior and the KL divergence between Betas.
plotting
    The book's one plot style and small plotting helpers.
notebook
    Page helpers: gluing computed numbers into the prose, recording versions.
"""

__version__ = "0.1.0"
