"""The compiled modules: the matching index (``hub/matching/ctree.pyx``) and the fix
filter (``hub/ingest/cfilter.pyx``).

Cython (a build requirement in pyproject.toml) turns them into C; the extensions are
optional, so an install without a C compiler still works, on their pure-Python twins.
Everything else about the package is in pyproject.toml.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

# Both must compute exactly as Python computes (the same answers to the last bit): no
# fused multiply-add.
FLAGS = ["-O2", "-ffp-contract=off"]
extensions = [
    Extension(
        "hub.matching.ctree", ["hub/matching/ctree.pyx"], extra_compile_args=FLAGS, optional=True
    ),
    Extension(
        "hub.ingest.cfilter", ["hub/ingest/cfilter.pyx"], extra_compile_args=FLAGS, optional=True
    ),
]
setup(ext_modules=cythonize(extensions, language_level=3))
