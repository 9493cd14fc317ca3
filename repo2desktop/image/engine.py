"""A repo2docker container engine that builds with ``docker build`` + BuildKit.

repo2docker's own ``docker`` engine shells out to ``docker buildx build`` and
refuses to start without the buildx plugin; the Docker SDK's build API uses the
legacy builder, which rejects repo2docker's ``COPY --chmod``. Debian's docker.io
CLI (20.10) has BuildKit built in, so ``DOCKER_BUILDKIT=1 docker build`` works
where buildx is missing. Select it with ``repo2docker --engine buildkit-cli``.

Build steps run on the engine's default (bridge) network: a repository's ``RUN`` steps
reach the internet (apt, pip) but not services listening on the build host's loopback.
Host networking only when asked for: ``REPO2DESKTOP_BUILD_NETWORK=host`` (or
``--BuildKitCLIEngine.network=host``) for machines whose bridge network has no way out.
"""

import os
import shutil
import subprocess
import tempfile

from repo2docker.docker import DOCKER_CLI, DockerEngine
from repo2docker.engine import BuildError, ContainerEngineException, ImageLoadError
from traitlets import Unicode, default

DEFAULT_CLI = "/usr/bin/docker"  # Debian's CLI: BuildKit without buildx
NETWORK_ENV = "REPO2DESKTOP_BUILD_NETWORK"


def docker_cli():
    return os.environ.get("REPO2DESKTOP_DOCKER_CLI", DEFAULT_CLI)


def buildx_available() -> bool:
    """True when repo2docker's default engine would work (``docker buildx`` answers)."""
    try:
        proc = subprocess.run(
            [DOCKER_CLI, "buildx", "version"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


class BuildKitCLIEngine(DockerEngine):
    """DockerEngine whose build() runs ``DOCKER_BUILDKIT=1 docker build``."""

    network = Unicode(
        config=True,
        help="--network for build steps (e.g. 'host'); empty: the engine's default network, "
        f"which keeps untrusted build steps off the build host's loopback. Default: ${NETWORK_ENV}.",
    )

    @default("network")
    def _network_default(self):
        return os.environ.get(NETWORK_ENV, "").strip()

    def __init__(self, *, parent):
        super().__init__(parent=parent)
        cli = docker_cli()
        # Fail here, where repo2docker turns ContainerEngineException into a
        # clean message, rather than with a traceback in the middle of build().
        try:
            subprocess.run([cli, "version"], capture_output=True, check=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise ContainerEngineException(
                f"{cli} does not answer `version` ({e}); is dockerd running? "
                "(scripts/start-dockerd.bash starts one)"
            ) from None
        self._container_cli = cli  # used by the inherited inspect_image()

    def build(
        self,
        *,
        push=False,
        load=False,
        buildargs=None,
        cache_from=None,
        container_limits=None,
        tag="",
        custom_context=False,
        dockerfile="",
        fileobj=None,
        path="",
        labels=None,
        platform=None,
        **kwargs,
    ):
        cli = self.container_cli
        args = [cli, "build", "--progress", "plain"]
        if self.network:
            if self.network == "host":
                # Say so: with it, RUN steps reach every service on this machine's loopback.
                self.log.warning(f"repo2desktop: build steps use the host's network ({NETWORK_ENV}=host)\n")
            args += ["--network", self.network]
        for k, v in (buildargs or {}).items():
            args += ["--build-arg", f"{k}={v}"]
        for cf in cache_from or []:
            args += ["--cache-from", cf]
        if tag:
            args += ["--tag", tag]
        for k, v in (labels or {}).items():
            args += ["--label", f"{k}={v}"]
        if platform:
            args += ["--platform", platform]
        if container_limits:
            # BuildKit ignores --memory; say so instead of silently dropping it.
            self.log.warning(f"BuildKit ignores build container limits {container_limits}")
        args += self.extra_buildx_build_args
        # `docker build` always loads the result into dockerd, so `load` needs nothing.

        tmpdir = tempfile.mkdtemp(prefix="repo2desktop-ctx-")
        stdin = subprocess.DEVNULL
        try:
            if fileobj is not None:
                # Hand the tar to `docker build -` as is: ownership and modes
                # stay exactly as repo2docker set them (no extraction needed).
                ctx = os.path.join(tmpdir, "context.tar")
                with open(ctx, "wb") as f:
                    shutil.copyfileobj(fileobj, f)
                args += ["--file", dockerfile or "Dockerfile", "-"]
                stdin = open(ctx, "rb")
            else:
                if dockerfile and not os.path.isabs(dockerfile):
                    dockerfile = os.path.join(path, dockerfile)
                args += (["--file", dockerfile] if dockerfile else []) + [path]
            yield from self._stream(args, stdin)
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()
            shutil.rmtree(tmpdir, ignore_errors=True)

        if push:
            yield from self._stream([cli, "push", tag], subprocess.DEVNULL, ImageLoadError)

    def _stream(self, args, stdin, error=BuildError):
        """Yield the command's output line by line; raise `error` if it fails."""
        env = dict(os.environ, DOCKER_BUILDKIT="1")
        proc = subprocess.Popen(
            args,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
        )
        last = ""
        # Our build steps explain failures in lines "repo2desktop: error: ..." (a missing
        # apt package, a broken desktop.yml); repeat them last, after BuildKit's noise.
        explained: list = []
        try:
            for line in proc.stdout:
                if line.strip():
                    last = line.rstrip()
                if "repo2desktop: error: " in line and line not in explained:
                    explained.append(line)
                yield line
            ret = proc.wait()
        finally:
            # The consumer may stop early (exception, Ctrl-C): do not leave a build running.
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if ret != 0:
            # repo2docker exits 1 on BuildError without printing it; log the cause.
            reasons = "".join("\n  " + l.split("repo2desktop: error: ", 1)[1].rstrip() for l in explained)
            msg = f"`{' '.join(args[:2])}` failed with exit code {ret}: " + (reasons or last)
            self.log.error(msg)
            raise error(msg)
