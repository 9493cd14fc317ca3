# Installed by repo2desktop as /etc/profile.d/repo2desktop-notebook-env.sh in images whose
# notebook environment is a venv at ${NB_PYTHON_PREFIX} (no conda to activate it).
# repo2docker's entrypoint runs in a login shell (`bash -l`), and Debian's /etc/profile
# replaces PATH; put back what the image's ENV PATH had in front, in the same order.
_repo2desktop_prepend() {
    if [ -n "$1" ] && [ -d "$1" ]; then
        case ":${PATH}:" in
            *":$1:"*) ;;
            *) PATH="$1:${PATH}" ;;
        esac
    fi
}
_repo2desktop_prepend "${NB_PYTHON_PREFIX:-}/bin"
_repo2desktop_prepend "${REPO_DIR:-}/.local/bin"
_repo2desktop_prepend "${HOME:-}/.local/bin"
export PATH
unset -f _repo2desktop_prepend
