"""NumPyro imported after ArviZ 1: the cause, and the workaround in bayesbook._lazy_imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# What lazy_loader.load(name) does (arviz_base.io_numpyro does it for "numpyro").
LAZY_LOAD = textwrap.dedent(
    """
    import importlib.util, sys
    def lazy_load(name):
        spec = importlib.util.find_spec(name)
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    """
)


def run(code: str, cwd=None) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def toy_package(tmp_path):
    """``pkg`` whose ``__init__`` imports the subpackage ``pkg.sub``, which imports ``pkg.sub.mod``."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg import sub\nfrom pkg.sub.mod import x\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("from pkg.sub.mod import x\n")
    (tmp_path / "pkg" / "sub" / "mod.py").write_text("x = 1\n")
    return tmp_path


def test_a_lazy_parent_makes_importlib_execute_a_subpackage_twice(toy_package):
    """The cause, without NumPyro or ArviZ: the subpackage in sys.modules lacks its submodule."""
    code = LAZY_LOAD + "lazy_load('pkg')\nimport pkg.sub\nprint(hasattr(pkg.sub, 'mod'))"
    assert run(code, cwd=toy_package) == "False"
    assert run("import pkg.sub\nprint(hasattr(pkg.sub, 'mod'))", cwd=toy_package) == "True"


def test_the_repair_puts_back_the_lost_attributes(toy_package):
    code = LAZY_LOAD + textwrap.dedent(
        """
        lazy_load('pkg')
        import pkg.sub
        from bayesbook._lazy_imports import repair_numpyro_import
        repaired = repair_numpyro_import('pkg')
        print(repaired, pkg.sub.mod is sys.modules['pkg.sub.mod'], repair_numpyro_import('pkg'))
        """
    )
    assert run(code, cwd=toy_package) == "['pkg.sub.mod'] True []"


def test_the_repair_loads_a_pending_lazy_package_so_its_import_happens_once(toy_package):
    code = LAZY_LOAD + textwrap.dedent(
        """
        lazy_load('pkg')
        from bayesbook._lazy_imports import repair_numpyro_import
        repair_numpyro_import('pkg')
        import pkg.sub
        print(hasattr(pkg.sub, 'mod'), type(sys.modules['pkg']).__name__)
        """
    )
    assert run(code, cwd=toy_package) == "True module"


NUTS_ON_A_BOUNDED_PRIOR = textwrap.dedent(
    """
    from bayesbook import mcmc, priors
    run = mcmc.run_coin(priors.make_prior("uniform", lower=0.2, upper=0.7), 4, 5,
                        num_chains=1, num_warmup=20, num_samples=20)
    print(0.2 <= run.draws().min() and run.draws().max() <= 0.7)
    """
)


@pytest.mark.parametrize("imports", [
    "import arviz\nimport numpyro.distributions\n",           # what every lecture's imports cell does
    "import arviz\nimport bayesbook\nimport numpyro.distributions\n",
    "import bayesbook\nimport arviz\nimport numpyro.distributions\n",
], ids=["arviz-numpyro-bayesbook", "arviz-bayesbook-numpyro", "bayesbook-arviz-numpyro"])
def test_nuts_on_a_constrained_site_runs_whatever_the_import_order(imports):
    """Without the workaround, NUTS fails in numpyro.factor: no attribute 'distribution'."""
    assert run(imports + NUTS_ON_A_BOUNDED_PRIOR) == "True"


def test_arviz_still_breaks_numpyro_without_the_workaround():
    """The upstream behaviour the workaround is for. When this fails, ArviZ (or importlib)
    no longer does it, and bayesbook._lazy_imports can go."""
    assert run("import arviz\nimport numpyro.distributions as d\nprint(hasattr(d, 'distribution'))") == "False"
