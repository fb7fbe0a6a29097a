"""setup.py as pip runs it: CMAKE_ARGS reaches CMake's configure step after the defaults, and a
value that does not split into arguments is refused before anything is configured."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

SETUP = pathlib.Path(__file__).resolve().parent.parent / "setup.py"


def build_ext(tmp_path: pathlib.Path, cmake_args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CMAKE_ARGS=cmake_args, CMAKE_BUILD_PARALLEL_LEVEL="1")
    return subprocess.run(
        [sys.executable, str(SETUP), "build_ext", "--build-temp", str(tmp_path / "temp"),
         "--build-lib", str(tmp_path / "lib")],
        cwd=SETUP.parent, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_cmake_args_come_after_the_defaults(tmp_path: pathlib.Path) -> None:
    # Turning the module off must win over setup.py's -DCONSENTRY_BUILD_PYTHON=ON: CMake is
    # configured without the module's target, so the build that asks for it fails at once.
    done = build_ext(tmp_path, "-DCONSENTRY_BUILD_PYTHON=OFF '-DCONSENTRY_TEST_NOTE=two words'")
    assert done.returncode != 0
    cache = (tmp_path / "temp" / "cmake" / "CMakeCache.txt").read_text(encoding="utf-8")
    assert "CONSENTRY_BUILD_PYTHON:BOOL=OFF" in cache
    assert "CONSENTRY_TEST_NOTE:UNINITIALIZED=two words" in cache
    assert not list((tmp_path / "lib").rglob("_consentry*.so"))


def test_cmake_args_that_do_not_split_are_refused_by_name(tmp_path: pathlib.Path) -> None:
    done = build_ext(tmp_path, '-DCMAKE_CXX_FLAGS="-O1')
    assert done.returncode != 0
    assert "consentry: CMAKE_ARGS does not split into arguments: No closing quotation" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "temp").exists()
