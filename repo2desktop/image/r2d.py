"""`python -m repo2desktop.image.r2d ARGS`: repo2docker's command line, as `repo2desktop build` runs it.

One difference from `python -m repo2docker`: with REPO2DESKTOP_REBUILD=1 in the environment,
an existing image of the output name is built again instead of being reused. repo2docker
skips the build whenever an image of that name exists ("Reusing existing image ..., not
building", exit 0), so `repo2desktop build . --image-name NAME` after an edit would silently
keep the old image; a rebuild takes unchanged steps from the layer cache, so it is quick.
"""
from __future__ import annotations

import os

REBUILD_ENV = "REPO2DESKTOP_REBUILD"


def main() -> None:
    from repo2docker import __main__ as r2d_main
    from repo2docker.app import Repo2Docker

    class Rebuilding(Repo2Docker):
        def find_image(self):
            if super().find_image():
                self.log.info(f"repo2desktop: {self.output_image_spec} exists; building it again "
                              "(unchanged steps come from the layer cache)\n")
            return False

    if os.environ.get(REBUILD_ENV) == "1":
        r2d_main.Repo2Docker = Rebuilding  # make_r2d() instantiates this module attribute
    r2d_main.main()


if __name__ == "__main__":
    main()
