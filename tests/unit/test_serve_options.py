"""`repo2desktop serve` pure parts: options, token checks, pages, the culling rule.

Docker and the proxy are replaced by small fakes here only to test the pool's rules; the serve
tier (tests/serve) runs the real thing."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from repo2desktop.cli import main
from repo2desktop.serve import options, pages
from repo2desktop.serve.pool import CLAIMED, READY, Pool, Slot
from repo2desktop.serve.web import _check_token


def parse(*argv: str, env=None) -> options.ServeOptions:
    p = argparse.ArgumentParser()
    options.add_arguments(p)
    return options.from_args(p.parse_args(list(argv)), env or {})


def test_defaults_are_safe():
    o = parse("img")
    assert (o.image, o.pool_name, o.pool_size, o.redirect_uri) == ("img", "serve-8000", 3, "desktop/")
    assert o.mem_limit == "1g" and o.cpu_quota == 100000 and o.pids_limit == 1024
    assert o.admin_ip == "127.0.0.1" and o.api_token is None
    assert o.render_command("/user/abc/", "T") == (
        "jupyter notebook --no-browser --ip=0.0.0.0 --port=8888 --ServerApp.base_url=/user/abc/")


def test_tmpnb_style_flags():
    o = parse("--image", "img", "--command", "jupyter lab --ServerApp.token={token} --port={port}",
              "--host-directories", "/tmp:/data:ro,/usr", "--extra-hosts", "db:10.0.0.2",
              "--redirect-uri", "/tree", "--allow-origin", "*", "--max-age", "60",
              env={"API_AUTH_TOKEN": "a", "ADMIN_AUTH_TOKEN": "b", "CONFIGPROXY_AUTH_TOKEN": "c"})
    assert o.render_command("/u/", "tok") == "jupyter lab --ServerApp.token=tok --port=8888"
    assert [(m.host, m.container, m.mode) for m in o.host_directories] == [
        ("/tmp", "/data", "ro"), ("/usr", "/usr", "rw")]
    assert o.extra_hosts == (("db", "10.0.0.2"),)
    assert o.redirect_uri == "tree"
    assert (o.api_token, o.admin_token, o.proxy_token) == ("a", "b", "c")
    assert o.cors.headers() == {"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "60"}


@pytest.mark.parametrize("argv, message", [
    (["img", "--pool-size", "0"], "serve: --pool-size: must be at least 1, got 0"),
    (["img", "--max-dock-workers", "0"], "serve: --max-dock-workers: must be at least 1, got 0"),
    (["img", "--pool-size", "5", "--max-containers", "2"],
     "serve: --max-containers: 2 is less than --pool-size 5"),
    (["img", "--command", "jupyter {nope}"], "serve: --command: unknown or malformed field 'nope'"),
    (["img", "--container-user", "root"], "serve: --container-user: 'root' is root (uid 0) as Docker "
     "reads it; visitor containers never run as root"),
    (["img", "--container-user", "0:0"], "serve: --container-user: '0:0' is root (uid 0) as Docker "
     "reads it; visitor containers never run as root"),
    (["img", "--admin-ip", "0.0.0.0"], "serve: --admin-ip: 0.0.0.0 is not loopback"),
    (["img", "--mem-limit", "lots"], "serve: --mem-limit: 'lots' is not a size"),
    (["img", "--extra-hosts", "db"], "serve: --extra-hosts: 'db' is not hostname:IP"),
    (["img", "--host-directories", "relative/path"], "serve: --host-directories: 'relative/path'"),
    (["img", "--redirect-uri", "../etc"], "serve: --redirect-uri: '../etc'"),
    (["img", "--pool-name", "Bad Name"], "serve: --pool-name: 'Bad Name'"),
    ([], "serve: IMAGE: name the image"),
])
def test_bad_options_one_line_exit_2(argv, message, capsys):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("repo2desktop: " + message), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_proxy_says_how_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    from repo2desktop.serve import proxy
    monkeypatch.setattr(proxy.os.path, "abspath", lambda p: str(tmp_path / "x" / "y" / "z.py"))
    assert main(["serve", "img"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("repo2desktop: configurable-http-proxy not found: install it with `npm install -g "
                   "configurable-http-proxy@5.3.0` (or `make deps`), or pass --proxy-command")


@pytest.mark.parametrize("header, expected, status", [
    (None, None, None), ("token x", None, None),
    (None, "s3cret", 401), ("", "s3cret", 401), ("token wrong", "s3cret", 403),
    ("s3cret", "s3cret", 403), ("token s3cret", "s3cret", None), ("Bearer s3cret", "s3cret", None),
])
def test_token_check(header, expected, status):
    assert _check_token(header, expected) == status


def test_pages_retry_and_refresh_and_hide_ids():
    page = pages.no_vacancy({"starting": 1})
    assert 'http-equiv="refresh" content="3;url=/"' in page and "1 new desktop is starting" in page
    slot = Slot("abcdefghijkl", "t" * 48, created=time.time() - 90, state=CLAIMED,
                claimed_at=time.time() - 30)
    info = pages.info({"available": 0, "in_use": 1, "starting": 0, "failed": 0, "capacity": 4},
                      [slot], [], "img")
    assert "abcd…" in info and "abcdefghijkl" not in info and "t" * 48 not in info
    assert "<td>claimed</td><td>90 s</td><td>30 s</td>" in info


class FakeProxy:
    def __init__(self, activity):
        self.activity, self.deleted = activity, []

    def last_activity(self):
        return self.activity

    def delete_route(self, path):
        self.deleted.append(path)


class FakeEngine:
    def __init__(self):
        self.removed = []

    def remove(self, container_id):
        self.removed.append(container_id)


def test_cull_rule_idle_timeout_and_max_age_claimed_only():
    now = 10_000.0
    o = parse("img", "--cull-timeout", "60", "--cull-max", "600")
    idle = Slot("idle", "t", created=now - 100, container_id="c1", state=CLAIMED, claimed_at=now - 90)
    busy = Slot("busy", "t", created=now - 100, container_id="c2", state=CLAIMED, claimed_at=now - 90)
    old = Slot("old", "t", created=now - 700, container_id="c3", state=CLAIMED, claimed_at=now - 650)
    spare = Slot("spare", "t", created=now - 5000, container_id="c4", state=READY)
    proxy = FakeProxy({"/user/idle": now - 70, "/user/busy": now - 5, "/user/old": now - 1})
    engine = FakeEngine()
    pool = Pool(o, engine, proxy, log=lambda line: None)
    pool.slots = {s.user_id: s for s in (idle, busy, old, spare)}
    culled = dict(pool.cull(now))
    assert culled == {"idle": "idle for 70 s", "old": "older than --cull-max 600 s"}
    assert sorted(engine.removed) == ["c1", "c3"] and set(pool.slots) == {"busy", "spare"}


# -- hub-config ------------------------------------------------------------------------------

# The zero-to-jupyterhub (Helm chart `jupyterhub`, 3.x/4.x) keys the values use, with the
# types the chart's values.schema.yaml gives them; `*` is any name (hub.services and
# hub.loadRoles are mappings by name). Kubernetes cannot run on these machines, so this
# table is the check: a renamed or mistyped key fails here.
Z2JH_KEYS = {
    "hub.config.JupyterHub.authenticator_class": str,
    # hub.config passes any traitlets setting through to jupyterhub_config.py
    "hub.config.JupyterHub.active_server_limit": int,
    "hub.config.JupyterHub.last_activity_interval": int,  # 0: idleness is the person's (issue 17)
    "hub.config.JupyterHub.load_groups": dict,
    "hub.config.KubeSpawner.container_security_context": dict,
    "hub.services.*.command": list, "hub.services.*.admin": bool, "hub.services.*.url": str,
    "hub.loadRoles.*.description": str, "hub.loadRoles.*.scopes": list,
    "hub.loadRoles.*.services": list,
    "singleuser.image.name": str, "singleuser.image.tag": str,
    "singleuser.cmd": (str, list), "singleuser.defaultUrl": str,
    "singleuser.extraEnv": dict, "singleuser.uid": int, "singleuser.allowPrivilegeEscalation": bool,
    "singleuser.memory.limit": (str, int), "singleuser.memory.guarantee": (str, int),
    "singleuser.cpu.limit": (float, int), "singleuser.networkPolicy.enabled": bool,
    "singleuser.storage.type": str,
    "cull.enabled": bool, "cull.users": bool, "cull.timeout": int, "cull.every": int,
    "cull.maxAge": int,
}
ENUMS = {"singleuser.storage.type": {"dynamic", "static", "none"}}


def _chart_key(path):
    """The Z2JH_KEYS entry PATH is, or None."""
    from fnmatch import fnmatchcase

    parts = path.split(".")
    for key in Z2JH_KEYS:
        pattern = key.split(".")
        if len(pattern) == len(parts) and all(fnmatchcase(p, k) for p, k in zip(parts, pattern)):
            return key
    return None


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and _chart_key(path) is None:
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _z2jh_values(tmp_path, *more):
    from ruamel.yaml import YAML

    assert main(["hub-config", "registry.example:5000/team/desktop:v3", "--out", str(tmp_path), *more]) == 0
    with open(tmp_path / "values.yaml") as f:
        values = YAML(typ="safe").load(f)
    leaves = dict(_leaves(values))
    unknown = {path for path in leaves if _chart_key(path) is None}
    assert not unknown, unknown
    for path, value in leaves.items():
        key = _chart_key(path)
        assert isinstance(value, Z2JH_KEYS[key]), (path, value)
        assert key not in ENUMS or value in ENUMS[key], (path, value)
    return values, leaves


def test_z2jh_values_use_only_chart_keys_with_their_types(tmp_path):
    values, leaves = _z2jh_values(tmp_path)
    assert leaves["singleuser.image.name"] == "registry.example:5000/team/desktop"
    assert leaves["singleuser.image.tag"] == "v3"
    assert leaves["hub.config.JupyterHub.authenticator_class"] == "tmp"
    assert leaves["singleuser.defaultUrl"] == "/desktop/"
    assert "services" not in values["hub"] and "loadRoles" not in values["hub"]  # no pool
    # serve's hardening, as Kubernetes says it: never root, no privilege gain, no capabilities
    assert (leaves["singleuser.uid"], leaves["singleuser.allowPrivilegeEscalation"]) == (1000, False)
    assert leaves["hub.config.KubeSpawner.container_security_context"] == {
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def test_z2jh_values_with_the_pool_name_its_service_role_and_authenticator(tmp_path):
    from repo2desktop.hub import poolconfig

    values, leaves = _z2jh_values(tmp_path, "--pool-size", "2")
    (service,) = values["hub"]["services"]
    command = values["hub"]["services"][service]["command"]
    assert command[:3] == ["python3", "-m", "repo2desktop.hub"] and "--pool-size=2" in command
    assert "--public-url=http://proxy-public" in command  # the chart's proxy, inside the cluster
    (role,) = values["hub"]["loadRoles"].values()
    assert role["services"] == [service]
    assert set(role["scopes"]) == set(poolconfig.hub_roles()[0]["scopes"])
    assert "admin:users" in role["scopes"] and f"servers!group={poolconfig.POOL_GROUP}" in role["scopes"]
    assert leaves["hub.config.JupyterHub.authenticator_class"] == poolconfig.AUTHENTICATOR_CLASS
    assert set(leaves["hub.config.JupyterHub.load_groups"]) == set(poolconfig.GROUPS)
    assert "hub.image" in (tmp_path / "values.yaml").read_text()  # says the hub needs repo2desktop


def _config_values(text: str) -> dict:
    """The module-level NAME = literal assignments of a generated jupyterhub_config.py."""
    import ast

    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass  # an expression (get_config(), ...), not a value
    return found


def test_hub_config_is_python_naming_the_stack_and_never_overwrites(tmp_path, capsys):
    assert main(["hub-config", "img:1", "--out", str(tmp_path), "--cull-timeout", "10",
                 "--max-servers", "7", "--mem-limit", "2G"]) == 0
    text = (tmp_path / "jupyterhub_config.py").read_text()
    values = _config_values(text)
    assert (values["IMAGE"], values["CULL_TIMEOUT"], values["MAX_SERVERS"]) == ("img:1", 10, 7)
    # serve's limits and hardening, and no swap beyond the memory limit
    assert (values["MEM_LIMIT"], values["HOST_CONFIG"]) == ("2G", {
        "memswap_limit": "2G", "pids_limit": 1024, "shm_size": "256m",
        "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]})
    for needed in ('authenticator_class = "tmp"', 'spawner_class = "docker"', "jupyterhub_idle_culler",
                   "c.DockerSpawner.image = IMAGE", "c.JupyterHub.active_server_limit = MAX_SERVERS",
                   'c.JupyterHub.hub_ip = "127.0.0.1"', "hubstart.private_network(_client, NETWORK)",
                   'c.DockerSpawner.extra_create_kwargs = {"user": SERVER_USER}',
                   "c.DockerSpawner.extra_host_config = HOST_CONFIG", 'cmd = ["jupyterhub-singleuser"]'):
        assert needed in text, needed
    capsys.readouterr()
    assert main(["hub-config", "img:1", "--out", str(tmp_path)]) == 2
    assert "exists; pass --force to replace" in capsys.readouterr().err


def test_hub_config_writes_arguments_only_as_values_of_one_block(tmp_path):
    """Everything after the values block is the same text whatever the arguments: no
    argument is spliced into code or comments."""
    from repo2desktop.serve.hubconfig import HubSettings, render_config

    one = render_config(HubSettings("img:1"))
    other = render_config(HubSettings("registry.example:5000/team/desktop@sha256:" + "a" * 64,
                                      network="n.2", port=443, max_servers=3, mem_limit="6m",
                                      cpu_limit=0.5, cull_timeout=1, cull_every=2, cull_max_age=3))
    assert one.split("c = get_config()", 1)[1] == other.split("c = get_config()", 1)[1]
    head_one, head_other = (text.split("IMAGE = ", 1)[0] for text in (one, other))
    assert head_one == head_other
    assert _config_values(other)["IMAGE"] == "registry.example:5000/team/desktop@sha256:" + "a" * 64


def test_hub_config_refuses_bad_arguments_and_writes_nothing(tmp_path, capsys):
    assert main(["hub-config", "img:1\nimport os #", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert capsys.readouterr().err.count("\n") == 1


# -- the user a visitor container runs as (serve/users.py) -------------------------------------

# Lines of an image's /etc/passwd; what dockerd 20.10 ran each as was checked by hand with
# `docker run --user NAME IMAGE id` (tests/serve checks USER 00 and a uid-0 name for real).
PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "jovyan:x:1000:1000::/home/jovyan:/bin/bash\n"
          "badnum:x:abc:1000::/tmp:/bin/sh\n"     # uid field not a number: Docker runs uid 0
          "toor:x:0:0::/root:/bin/sh\n"
          "zeros:x:000:0::/tmp:/bin/sh\n"
          "empty:x::1000::/tmp:/bin/sh\n"
          "plus:x:+1000:1000::/tmp:/bin/sh\n"
          "dup:x:1002:1002::/tmp:/bin/sh\n"
          "dup:x:0:0::/tmp:/bin/sh\n")           # the first line of a name counts


@pytest.mark.parametrize("spec, pinned", [
    ("jovyan", "1000"), ("jovyan:users", "1000:users"), ("1000", "1000"), ("01000", "1000"),
    ("+1000:100", "1000:100"), ("plus", "1000"), ("dup", "1002"), ("4242", "4242"),
])
def test_users_pinned_as_docker_resolves_them(spec, pinned):
    from repo2desktop.serve import users

    assert users.pinned(spec, PASSWD) == pinned


@pytest.mark.parametrize("spec, message", [
    ("00", "'00' is root (uid 0) as Docker reads it"),
    ("+0", "'+0' is root (uid 0) as Docker reads it"),
    ("-0:1000", "'-0:1000' is root (uid 0) as Docker reads it"),
    (":1000", "':1000' names no user, so Docker runs it as root"),
    ("", "'' names no user, so Docker runs it as root"),
    ("toor", "'toor' is root (uid 0) in the image's /etc/passwd"),
    ("badnum", "'badnum' is root (uid 0) in the image's /etc/passwd"),
    ("zeros:100", "'zeros:100' is root (uid 0) in the image's /etc/passwd"),
    ("empty", "'empty' is root (uid 0) in the image's /etc/passwd"),
    ("nosuch", "'nosuch': no user 'nosuch' in the image's /etc/passwd (Docker could not start it)"),
    ("-5", "'-5' is not a uid Docker accepts (0 to 2147483647)"),
])
def test_users_that_docker_runs_as_root_are_refused(spec, message):
    from repo2desktop.serve import users

    with pytest.raises(users.Refused) as info:
        users.pinned(spec, PASSWD)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("text, bytes_", [("1g", 1024 ** 3), ("512m", 512 * 1024 ** 2), ("6M", 6 * 1024 ** 2),
                                          ("1048576", 1024 ** 2), ("2k", 2048), ("0", 0)])
def test_sizes_read_as_docker_reads_them(text, bytes_):
    from repo2desktop.serve import hardening

    assert hardening.size_bytes(text) == bytes_


def test_lean_images_carry_jupyterhub_singleuser():
    """The lean (desktop-only, Nix) notebook venv has jupyterhub, so `jupyterhub-singleuser`
    starts any image `repo2desktop build` makes (the conda environment has it already)."""
    from repo2desktop.image.buildpacks.desktop import NOTEBOOK_ENV_PACKAGES

    assert any(p.startswith("jupyterhub>=") for p in NOTEBOOK_ENV_PACKAGES)


def test_proxy_log_lines_lose_tokens():
    from repo2desktop.serve.proxy import scrub

    line = "error: 503 GET /user/abc/desktop/?token=0123abcd&x=1 and /lab?_xsrf=zz token=raw"
    assert scrub(line) == ("error: 503 GET /user/abc/desktop/?token=[secret]&x=1 and "
                           "/lab?_xsrf=[secret] token=[secret]")


# -- the option tables (serve/flags.py) --------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("command, table_name", [("serve", "SERVE"), ("hub-config", "HUB")])
def test_readme_tables_are_the_option_tables(command, table_name):
    """The README's table of each command's options is the table argparse is made from."""
    from repo2desktop.serve import flags, huboptions

    table = {"SERVE": options.SERVE, "HUB": huboptions.HUB}[table_name]
    readme = README.read_text()
    marker = next(line for line in readme.splitlines()
                  if line.startswith(f"<!-- {command} options: generated from") and table_name in line)
    written = readme.split(marker + "\n", 1)[1].split("\n\n", 1)[0] + "\n"
    assert written == flags.markdown(table), "README out of date; its table should be:\n" + flags.markdown(table)


@pytest.mark.parametrize("command", ["serve", "hub-config"])
def test_every_option_of_the_table_is_a_flag_with_its_default_in_the_help(command, capsys):
    from repo2desktop.serve import huboptions

    table = {"serve": options.SERVE, "hub-config": huboptions.HUB}[command]
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for flag in table:
        if flag.name.startswith("-"):
            assert f"{flag.name} " in help_text
            assert " ".join(f"(default: {flag.default_text.replace('`', '')})".split()) in help_text, flag.name


def test_the_options_objects_have_one_field_per_row():
    import dataclasses

    from repo2desktop.serve import huboptions

    serve_fields = {f.name for f in dataclasses.fields(options.ServeOptions)}
    assert serve_fields == {f.dest for f in options.SERVE} - {"image_arg"} | {
        "api_token", "admin_token", "proxy_token"}
    hub_fields = {f.name for f in dataclasses.fields(huboptions.HubSettings)}
    assert hub_fields == {f.dest for f in huboptions.HUB} - {"out", "force"}
    # argparse's defaults are the rows' defaults, and HubSettings' too
    p = argparse.ArgumentParser()
    huboptions.add_arguments(p)
    args = p.parse_args(["img"])
    assert huboptions.from_args(args) == huboptions.HubSettings("img")
    o = parse("img")
    for flag in options.SERVE:
        if flag.dest not in ("image_arg", "image", "pool_name", "redirect_uri", "host_directories",
                             "extra_hosts"):  # converted: checked in test_defaults_are_safe
            assert getattr(o, flag.dest) == flag.default, flag.name


# -- hub-config's new flags ------------------------------------------------------------------

def test_hub_config_flags_for_running_beside_other_hubs(tmp_path):
    assert main(["hub-config", "img:1", "--out", str(tmp_path), "--ip", "10.1.2.3", "--port", "9000",
                 "--hub-port", "9001", "--proxy-api-port", "9002", "--network", "net-b",
                 "--name-prefix", "hub-b"]) == 0
    text = (tmp_path / "jupyterhub_config.py").read_text()
    values = _config_values(text)
    assert (values["IP"], values["PORT"], values["HUB_PORT"], values["PROXY_API_PORT"],
            values["NETWORK"], values["NAME_PREFIX"]) == ("10.1.2.3", 9000, 9001, 9002, "net-b", "hub-b")
    for needed in ("c.JupyterHub.bind_url = _url(IP, PORT)", "c.JupyterHub.hub_port = HUB_PORT",
                   'c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"',
                   "c.DockerSpawner.prefix = NAME_PREFIX", "c.DockerSpawner.hub_connect_url = PUBLIC_URL",
                   "signal.signal(signal.SIGINT, signal.default_int_handler)"):
        assert needed in text, needed


@pytest.mark.parametrize("argv, message", [
    (["--ip", "127.0.0.1"], "hub-config: --ip: 127.0.0.1 is loopback, where the servers cannot reach the hub"),
    (["--ip", "somewhere"], "hub-config: --ip: 'somewhere' is not an IP address of this host ('' for all)"),
    (["--hub-port", "8000"], "hub-config: --hub-port: 8000 is --port already"),
    (["--proxy-api-port", "8081"], "hub-config: --proxy-api-port: 8081 is --hub-port already"),
    (["--hub-port", "70000"], "hub-config: --hub-port: 70000 is not a TCP port"),
    (["--name-prefix", "a b"], "hub-config: --name-prefix: 'a b' is not a container name prefix"),
    (["--name-prefix", "x\nimport os"], "hub-config: --name-prefix: 'x\\nimport os' is not a container"),
    (["--pool-size", "-1"], "hub-config: --pool-size: must be >= 0, got -1"),
    (["--pool-size", "5", "--max-servers", "4"], "hub-config: --pool-size: 5 is more than --max-servers 4"),
])
def test_hub_config_bad_flags_one_line_exit_2_nothing_written(argv, message, tmp_path, capsys):
    assert main(["hub-config", "img:1", "--out", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("repo2desktop: " + message), err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_hub_config_with_the_pool_adds_its_service_role_and_authenticator(tmp_path):
    from repo2desktop.serve.hubconfig import HubSettings, render_config

    text = render_config(HubSettings("img:1", pool_size=2))
    assert _config_values(text)["POOL_SIZE"] == 2
    pool = text.split("from repo2desktop.hub import poolconfig", 1)[1]
    for needed in ("c.JupyterHub.authenticator_class = poolconfig.AUTHENTICATOR_CLASS",
                   "poolconfig.hub_services(POOL_SIZE, sys.executable, public_url=PUBLIC_URL)",
                   "c.JupyterHub.load_roles += poolconfig.hub_roles()",
                   "poolconfig.config_traits(POOL_SIZE)"):
        assert needed in pool, needed
    assert "poolconfig" not in render_config(HubSettings("img:1"))  # no pool by default
    compile(text, "jupyterhub_config.py", "exec")


def test_the_template_outputs_only_python_literals():
    """An expression of the template that does not go through `py` fails to render, so no
    value can reach jupyterhub_config.py as pasted text; each `py` output is one literal."""
    import ast

    from repo2desktop.serve.hubconfig import environment

    env = environment()
    with pytest.raises(TypeError, match="every expression must go through `| py`"):
        env.from_string("IMAGE = {{ image }}").render(image="x\nimport os")
    hostile = "x'\nimport os; os.system('id') #"
    line = env.from_string("IMAGE = {{ image | py }}").render(image=hostile)
    assert len(line.splitlines()) == 1 and ast.literal_eval(line.split(" = ", 1)[1]) == hostile
    with pytest.raises(TypeError, match="not a plain value"):
        env.from_string("X = {{ x | py }}").render(x=object())
