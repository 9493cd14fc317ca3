"""`python -m repo2desktop.hub --pool-size N`: the pool service, as JupyterHub starts it
(c.JupyterHub.services, see poolconfig.py)."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from repo2desktop.hub.poolconfig import PUBLIC_URL_ENV, SERVICE_NAME
from repo2desktop.hub.service import HubAPI, Pool


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repo2desktop.hub",
                                 description="keep N pre-started servers for a JupyterHub")
    ap.add_argument("--pool-size", type=int, required=True)
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    ap.add_argument("--public-url", default=os.environ.get(PUBLIC_URL_ENV),
                    help="the hub's proxy as this service reaches it (asks desktops if READY)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"[%(levelname)1.1s %(asctime)s {SERVICE_NAME}] %(message)s")
    missing = [v for v in ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN") if not os.environ.get(v)]
    if missing:
        print(f"{SERVICE_NAME}: {', '.join(missing)} not set: run it as a JupyterHub service "
              "(c.JupyterHub.services)", file=sys.stderr)
        return 2
    if args.pool_size < 1 or args.interval <= 0:
        print(f"{SERVICE_NAME}: --pool-size must be at least 1 and --interval > 0", file=sys.stderr)
        return 2
    hub = HubAPI(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    try:
        Pool(hub, args.pool_size, args.public_url, args.interval).run(args.interval)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
