"""bayesbook.torch_jit: the one PyTorch warning hidden, and nothing else."""

import warnings

import pytest

from bayesbook import torch_jit


def test_torch_jit_trace_allowed_hides_that_warning_only():
    message = "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`."
    with torch_jit.torch_jit_trace_allowed():
        for category in (DeprecationWarning, FutureWarning):
            warnings.warn(message, category)  # hidden: the test suite turns warnings into errors
        with pytest.warns(DeprecationWarning, match="something else"):
            warnings.warn("something else is deprecated", DeprecationWarning)
        with pytest.warns(UserWarning, match="torch.jit.trace"):
            warnings.warn(message, UserWarning)
