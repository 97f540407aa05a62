"""The one compiled module: the matching index (``hub/matching/ctree.pyx``).

Cython (a build requirement in pyproject.toml) turns it into C; the extension is
optional, so an install without a C compiler still works, on the pure-Python tree.
Everything else about the package is in pyproject.toml.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

index = Extension(
    "hub.matching.ctree",
    ["hub/matching/ctree.pyx"],
    # the chords must be computed exactly as Python computes them: no fused multiply-add
    extra_compile_args=["-O2", "-ffp-contract=off"],
    optional=True,
)
setup(ext_modules=cythonize([index], language_level=3))
