"""Builds and installs the `consentry` Python package from a consentry checkout.

    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install ./bindings/python

The extension is built by CMake from the repository's root (two levels up: pip 21.3 and later
build a local directory in place, so the root is reachable), with only the library and the
module, for the interpreter running this script. Needs what the library needs (Debian:
scripts/install-deps.sh) plus pybind11-dev; nothing is downloaded. CONSENTRY_SOURCE_DIR names
another checkout; CMAKE_BUILD_PARALLEL_LEVEL bounds the build's jobs; CMAKE_ARGS adds arguments
to CMake's configure step (split as a shell would, after the defaults, so that they win).
"""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent


def source_root() -> pathlib.Path:
    root = pathlib.Path(os.environ.get("CONSENTRY_SOURCE_DIR", HERE.parent.parent)).resolve()
    top = root / "CMakeLists.txt"
    if not top.is_file() or "project(consentry" not in top.read_text(encoding="utf-8"):
        sys.exit(f"consentry: no consentry checkout at {root}; install from a checkout "
                 "(pip install ./bindings/python) or set CONSENTRY_SOURCE_DIR")
    return root


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """Configure and build the library and the module with CMake, then take the module."""

    def build_extension(self, ext: Extension) -> None:
        root = source_root()
        try:
            extra = shlex.split(os.environ.get("CMAKE_ARGS", ""))
        except ValueError as e:
            sys.exit(f"consentry: CMAKE_ARGS does not split into arguments: {e}")
        build_dir = pathlib.Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        config = "Debug" if self.debug else "Release"
        configure = [
            "cmake", "-S", str(root), "-B", str(build_dir),
            f"-DCMAKE_BUILD_TYPE={config}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DCONSENTRY_BUILD_TESTS=OFF", "-DCONSENTRY_BUILD_CLI=OFF", "-DCONSENTRY_BUILD_EXAMPLES=OFF",
            "-DCONSENTRY_BUILD_FUZZERS=OFF", "-DCONSENTRY_BUILD_BENCHMARKS=OFF", "-DCONSENTRY_BUILD_C_API=OFF",
            "-DCONSENTRY_BUILD_PYTHON=ON",
            *extra,
        ]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "consentry_python", "-j", jobs], check=True)
        built = sorted((build_dir / "bindings" / "python").glob("_consentry*.so"))
        if not built:
            sys.exit("consentry: the build made no _consentry module")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="consentry",
    version="0.1.0",
    description="Consent-gated, encrypted customer data for CRM backends",
    license="See LICENSE in the consentry repository",
    python_requires=">=3.9",
    packages=["consentry"],
    package_dir={"consentry": "consentry"},
    package_data={"consentry": ["py.typed", "*.pyi"]},
    ext_modules=[CMakeExtension("consentry._consentry")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
