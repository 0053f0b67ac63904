"""The one PyTorch warning the book hides: the deprecation notice of ``torch.jit.trace``.

Pyro's ``jit_compile=True`` (NUTS) and ``JitTrace_ELBO`` (SVI) trace the model with
``torch.jit.trace``, which PyTorch marks as deprecated at every trace: with a
``DeprecationWarning`` in 2.13, a ``FutureWarning`` from 2.14. The trace still works and
makes Pyro about twice as fast, so :func:`torch_jit_trace_allowed` hides that message,
and nothing else, inside a ``with`` block.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["torch_jit_trace_allowed"]


@contextmanager
def torch_jit_trace_allowed() -> Iterator[None]:
    """Hide the one warning PyTorch gives for every ``torch.jit.trace``, and nothing else.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with torch_jit_trace_allowed():
    ...         warnings.warn("`torch.jit.trace` is deprecated", FutureWarning)
    ...         warnings.warn("something else", FutureWarning)
    >>> [str(w.message) for w in caught]
    ['something else']
    """
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace` is deprecated", category=category)
        yield
