"""Puts libkeycard.so into the wheel and tags the wheel for this platform.

The library comes from $KEYCARD_LIB when set (a libkeycard.so built already, e.g. by
bindings/python/test.sh), else from `cargo build --release -p keycard-ffi --lib` in this
repository. The wheel holds ctypes code and the library, no CPython extension, so it is tagged
`py3-none-<platform>`: any Python 3 on this platform, not one interpreter version.
"""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LIBRARY = "libkeycard.dylib" if sys.platform == "darwin" else "libkeycard.so"


def _library(root: Path) -> Path:
    given = os.environ.get("KEYCARD_LIB")
    if given:
        path = Path(given)
        if not path.is_file():
            raise RuntimeError(f"KEYCARD_LIB={given}: no such file")
        return path
    repo = root.parents[1]
    subprocess.run(["cargo", "build", "--release", "-p", "keycard-ffi", "--lib"], cwd=repo, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or repo / "target")
    path = target / "release" / LIBRARY
    if not path.is_file():
        raise RuntimeError(f"cargo built no {path}")
    return path


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        build_data["force_include"][str(_library(Path(self.root)))] = f"keycard/{LIBRARY}"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
