"""The image side's old name: `repo2desktop.repo2docker.X` is `repo2desktop.image.X`.

The package was renamed because it mirrored its dependency's name and hid what it holds.
This module exists only for what may still name the old path from outside this tree:
- a repo2docker config of one's own, written against the README's `config-path` file
  (`from repo2desktop.repo2docker.buildpacks.selection import buildpacks, ...`);
- an environment installed before the rename: its dist-info keeps the `repo2docker.engines`
  entry point `buildkit-cli = repo2desktop.repo2docker.engine:...` until it is installed
  again, and `--engine buildkit-cli` would fail to import it.
Each old name gives the new module itself (one class, not a second copy), imported only
when asked for. Nothing in repo2desktop imports this module; it can go once no one needs it.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

NEW = "repo2desktop.image"
__path__: list = []  # a package, so that `import repo2desktop.repo2docker.engine` asks the finder


class _OldName(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if not name.startswith(__name__ + "."):
            return None
        module = importlib.import_module(NEW + name[len(__name__):])
        spec = importlib.util.spec_from_loader(name, self)
        spec.loader_state = (module, module.__spec__)
        return spec

    def create_module(self, spec):
        return spec.loader_state[0]

    def exec_module(self, module):
        # The import system stamped the old name's spec on the module: give it back its own.
        module.__spec__ = module.__spec__.loader_state[1]


# First on the path: a submodule of an old name must not be found (and run twice) as a file.
if not any(isinstance(finder, _OldName) for finder in sys.meta_path):
    sys.meta_path.insert(0, _OldName())
