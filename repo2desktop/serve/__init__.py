"""`repo2desktop serve`: temporary desktops for visitors (tmpnb rebuilt).

A pool of containers of one image is started ahead of time on a private Docker network,
each with its own ``/user/<id>/`` base path and Jupyter token; configurable-http-proxy is the
public front. A visitor to ``/`` is routed to a ready container and sent straight into its
desktop. Modules, in the order data flows:

- ``options``: the command line (tmpnb's flags) -> a frozen ``ServeOptions``;
- ``docker_adapter``: everything said to the Docker engine (SDK only), labels, limits;
- ``proxy``: starts/supervises configurable-http-proxy and talks to its REST API;
- ``readiness``: "this desktop answers" (HTTP 200 + RFB handshake through Jupyter);
- ``pool``: the containers' states and the rules that keep spares warm;
- ``culler``: idle (proxy last_activity) and maximum-age culling;
- ``web``/``pages``: the public and admin HTTP APIs and the pages;
- ``service``: wires them together, adopts on start, removes everything on stop.
"""
