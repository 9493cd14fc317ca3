"""The one list of apps that draw with OpenGL (GLX on X11): on a VNC server without GLX
(TightVNC 1.3) they fail or crash. validate.py looks for them in desktop.yml's packages and
autostart (apt packages, commands), envfiles.py in the notebook's requirements.txt and
environment.yml (Python packages); one list serves both, as the names overlap."""
from __future__ import annotations

from typing import Optional, Sequence

NEEDS_GLX = (
    # apt packages and commands
    "mesa-utils", "glxgears", "glxinfo", "napari", "vispy", "paraview", "blender", "freecad",
    "qgis", "pymol", "mayavi", "fiji", "rviz", "meshlab", "octave",
    # Python packages (PyPI, conda)
    "pyvista", "pyvistaqt", "pyopengl", "vtk", "open3d", "pyglet", "moderngl", "glumpy", "pygfx",
    "glfw",
)


def first_needing_glx(words: Sequence[str]) -> Optional[str]:
    """The first name of NEEDS_GLX among WORDS (lower-case), or None."""
    return next((name for name in NEEDS_GLX if name in words), None)
