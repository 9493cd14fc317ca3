"""A pre-started pool for JupyterHub: a hub service that keeps temporary users' servers
started and their desktops answering (service.py), and an authenticator that logs a visitor
in as one of them (authenticator.py). poolconfig.py says how a hub's config turns them on."""
