"""The desktop page's noVNC client: sources here, the bundle in dist/ (built, never committed)."""
