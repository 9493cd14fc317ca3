"""Only what pyproject.toml cannot say: bundle the noVNC viewer when a wheel is built, and
write desktop.yml's JSON Schema (made from repo2desktop/config/schema.py, never committed) into
it as repo2desktop/config/desktop.schema.json.

The bundle (repo2desktop/viewer/dist/desktop.js) is a build product, never committed:
build_py runs scripts/build-viewer.bash (npm @novnc/novnc + esbuild, versions pinned in
repo2desktop/viewer/package-lock.json) into the wheel's build folder unless a checkout already built it
(`make viewer`), in which case package data carries that file.
"""
import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithViewer(build_py):
    def run(self):
        super().run()
        # The generator imports only the standard library (schema.py, json_schema.py).
        subprocess.run([sys.executable, "-c", "import sys; from repo2desktop.config import json_schema as j; "
                        "open(sys.argv[1], 'w').write(j.text())",
                        os.path.join(self.build_lib, "repo2desktop", "config", "desktop.schema.json")],
                       check=True, env=dict(os.environ, PYTHONPATH=self.build_lib))
        out = os.path.join(self.build_lib, "repo2desktop", "viewer", "dist")
        if not os.path.isfile(os.path.join(out, "desktop.js")):
            # node_modules beside build_lib (build/), never inside the package
            work = os.path.join(os.path.dirname(os.path.abspath(self.build_lib)), "viewer-npm")
            subprocess.run(["bash", os.path.join(HERE, "scripts", "build-viewer.bash"), out],
                           check=True, env=dict(os.environ, WORK_DIR=work))


setup(cmdclass={"build_py": BuildPyWithViewer})
