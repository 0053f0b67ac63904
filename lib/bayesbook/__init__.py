"""Shared code for the lecture book *Bayesian inference with non-conjugate priors*.

One module per concept; import the one you need, for example
``from bayesbook import data, exact, plotting``. Importing the package itself
is cheap: NumPyro, JAX, PyTorch and Pyro are imported only by the modules that
use them.

Modules
-------
data
    The book's coin flips (chapters 1–5), simulating Bernoulli data and counting
    successes; the eight schools
    data and their stored reference posterior; simulated regressions, with outliers;
    grouped and sparse regression data.
exact
    Closed-form results (the Beta posterior, evidence, Beta KL), the
    quadrature posterior for any prior on [0, 1], the Gaussian posterior of a
    linear regression with known noise, the KL between two Gaussians, and the posterior
    of a regression with a Gaussian prior and unknown noise.
priors, numpyro_dists, pyro_dists
    Every prior of the book for NumPyro and Pyro, and the distributions they lack.
models
    The coin model, once per library; eight schools, centred and non-centred;
    linear regression (NumPyro, and Pyro as a ``PyroModule``) and its outlier mixture;
    hierarchical regression; sparse regression with Gaussian or horseshoe priors.
mcmc
    NUTS in both libraries with its diagnostics; one compiled program for a grid
    of posteriors or a sweep of target acceptance probabilities.
scoring
    W1, KS and Monte Carlo errors of draws against an exact posterior.
svi
    SVI for any model and guide: the settings (learning-rate decay, iterate
    averaging), NumPyro's run as one compiled program, and Pyro's SVI loop; both return
    the same result, with the parameters' history.
vi, vi_scoring
    The coin's Beta and truncated-normal guides, fitted with :mod:`svi`'s machinery, one
    posterior or a whole grid at once; exact KL, best KL, PSIS k-hat.
torch_jit
    Hiding PyTorch's deprecation notice for ``torch.jit.trace`` (and nothing else).
convergence
    Has an SVI run converged? Checks of its losses and of its parameters' path.
plotting
    The book's one plot style and small plotting helpers.
exercises
    Checking a student's answer to an exercise (right, close or wrong, with a hint)
    against the key the book's own solutions computed.
notebook
    Page helpers: gluing computed numbers into the prose, checking the claims the
    prose makes of them, recording versions.
"""

from ._lazy_imports import repair_numpyro_import

__version__ = "0.1.0"

# NumPyro imported after ArviZ 1 loses attributes of numpyro.distributions (an importlib
# behaviour with ArviZ's lazy import of NumPyro; see bayesbook._lazy_imports). Repair it
# here, for pages that import both before this package, and before each NumPyro program.
repair_numpyro_import()
