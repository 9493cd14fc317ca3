"""What `repo2desktop hub-config` writes, rendered from checked HubSettings (huboptions.py):
render_config and render_values are pure (settings in, text out); write() puts them in a folder.

jupyterhub_config.py comes from templates/jupyterhub_config.py.j2 (Jinja2, StrictUndefined).
Every expression in that template must go through the ``py`` filter (repr() of a plain
value, pretty-printed): the environment's ``finalize`` refuses anything else, so no
argument is ever pasted into the file as text and none can add a line of Python.
values.yaml is data dumped as YAML.
"""
from __future__ import annotations

import io
import os
import pprint
from typing import Any, Dict, List

import jinja2

from repo2desktop.resources import hub_templates_dir
from repo2desktop.serve import hardening
from repo2desktop.serve.huboptions import (DEFAULT_URL, HUB, OUTPUT_ONLY, POOL_MODULE,  # noqa: F401
                                           HubConfigError, HubSettings, check)

CONFIG_NAME = "jupyterhub_config.py"
VALUES_NAME = "values.yaml"
TEMPLATE = CONFIG_NAME + ".j2"
# The interpreter z2jh's hub image runs the pool's service with, and where the service
# reaches the chart's public proxy (its Kubernetes service `proxy-public`).
Z2JH_PYTHON = "python3"
Z2JH_PUBLIC_URL = "http://proxy-public"


class PythonLiteral(str):
    """Text that is the repr() of a value: the only thing the template may output."""


def _py(value: Any) -> PythonLiteral:
    if not isinstance(value, (str, int, float, bool, list, dict, tuple, type(None))):
        raise TypeError(f"{type(value).__name__} is not a plain value for {CONFIG_NAME}")
    return PythonLiteral(pprint.pformat(value, width=96, sort_dicts=False))


def _only_literals(value: Any) -> Any:
    if not isinstance(value, PythonLiteral):
        raise TypeError(f"{TEMPLATE}: every expression must go through `| py`, got {value!r}")
    return value


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(hub_templates_dir()),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             finalize=_only_literals, autoescape=False)
    env.filters["py"] = _py
    return env


def template_values(s) -> Dict[str, Any]:
    values = {f.dest: getattr(s, f.dest) for f in HUB if f.dest not in OUTPUT_ONLY}
    values.update(default_url=DEFAULT_URL, host_config=hardening.host_config(s.mem_limit))
    return values


def render_config(s) -> str:
    return environment().get_template(TEMPLATE).render(template_values(check(s)))


def _pool():
    import importlib

    return importlib.import_module(POOL_MODULE)


def activity_interval(cull_timeout: float) -> int:
    """Idleness: the servers' activity reports, at least four per cull timeout (as the config's)."""
    return max(10, min(300, int(cull_timeout) // 4))


def values(s) -> Dict:
    """The z2jh values, as data (the unit test checks every key path against the chart's)."""
    name, tag = s.image_name_tag
    policy = hardening.kubernetes()
    hub: Dict[str, Any] = {"config": {"JupyterHub": {"authenticator_class": "tmp",
                                                     "active_server_limit": s.max_servers,
                                                     "last_activity_interval": 0},  # idleness: the person's
                                      **policy["hub.config"]}}
    if s.pool_size:
        pool = _pool()
        hub["config"]["JupyterHub"]["authenticator_class"] = pool.AUTHENTICATOR_CLASS
        for klass, traits in pool.config_traits(s.pool_size).items():
            hub["config"].setdefault(klass, {}).update(traits)
        # The chart's services and roles are mappings by name (it adds each one's name).
        hub["services"] = {service["name"]: {k: v for k, v in service.items() if k != "name"}
                           for service in pool.hub_services(s.pool_size, Z2JH_PYTHON,
                                                                 public_url=Z2JH_PUBLIC_URL)}
        hub["loadRoles"] = {role["name"]: {k: v for k, v in role.items() if k != "name"}
                            for role in pool.hub_roles()}
    return {
        "hub": hub,
        "singleuser": {
            "image": {"name": name, "tag": tag},
            "cmd": "jupyterhub-singleuser",
            "defaultUrl": DEFAULT_URL,
            "extraEnv": {"REPO2DESKTOP_START": "eager",  # idleness: reports, below
                         "JUPYTERHUB_ACTIVITY_INTERVAL": str(activity_interval(s.cull_timeout))},
            **policy["singleuser"],
            "memory": {"limit": s.mem_limit, "guarantee": "256M"},
            "cpu": {"limit": s.cpu_limit},
            "networkPolicy": {"enabled": True},
            "storage": {"type": "none"},
        },
        "cull": {"enabled": True, "users": True, "timeout": s.cull_timeout,
                 "every": s.cull_every, "maxAge": s.cull_max_age},
    }


def render_values(s) -> str:
    from ruamel.yaml import YAML

    s = check(s)
    out = io.StringIO()
    out.write(f"# zero-to-jupyterhub (Helm chart `jupyterhub`) values for {s.image!r}\n"
              "# Generated by `repo2desktop hub-config`. Push the image to a registry\n"
              "# your cluster pulls from, then: helm upgrade --install hub jupyterhub/jupyterhub "
              "--values values.yaml\n")
    if s.pool_size:
        out.write("# The pool (hub.services, hub.loadRoles, the authenticator) runs in the hub's pod:\n"
                  "# set hub.image to a hub image with repo2desktop installed beside JupyterHub.\n")
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(values(s), out)
    return out.getvalue()


def write(s, out_dir: str, force: bool = False) -> List[str]:
    files = {CONFIG_NAME: render_config(s), VALUES_NAME: render_values(s)}
    os.makedirs(out_dir, exist_ok=True)
    existing = [n for n in files if os.path.exists(os.path.join(out_dir, n))]
    if existing and not force:
        raise HubConfigError(f"hub-config: {', '.join(os.path.join(out_dir, n) for n in existing)} "
                             "exists; pass --force to replace")
    written = []
    for name, text in files.items():
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(text)
        written.append(path)
    return written
