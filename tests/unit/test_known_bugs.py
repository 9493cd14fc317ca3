"""Library bugs found while writing the fast tier, pinned as strict xfails.

Each test states the behaviour we want. While the bug stands the test fails and is reported
as XFAIL; once the library is fixed it passes, strict=True turns that XPASS into a failure,
and the marker should be removed (the test then guards the fix).
"""
from __future__ import annotations

import configparser
import shlex
import warnings

import pytest
from ruamel.yaml.error import ReusedAnchorWarning

from repo2desktop.errors import ConfigError
from repo2desktop.render import Session, render

SESSION = Session(runtime_dir="/run/r2d", display=1, listen="unix:/run/r2d/websockify.sock",
                  password_file="/run/r2d/vnc.passwd", websockify="/usr/bin/websockify")


def bug(reason: str, **kwargs):
    return pytest.mark.xfail(strict=True, reason=reason, **kwargs)


# --- loader.parse: exceptions that escape as tracebacks ---------------------------------
# parse() wraps YAMLError, RecursionError, ValueError and TypeError only; ruamel raises
# other exception types for these documents, and `repo2desktop validate` prints a traceback.
def crash(id: str, content: str, raised: type):
    reason = f"loader.parse lets {raised.__name__} escape"
    return pytest.param(content, id=id, marks=bug(reason, raises=raised))


@pytest.mark.parametrize("content", [
    crash("empty-int-tag", "!!int \n", IndexError),
    crash("empty-float-tag", "version: 1\ndisplay:\n  depth: !!float\n", IndexError),
    crash("bool-tag-on-non-boolean", "version: !!bool x\n", KeyError),
    crash("set-tag-on-scalar", "version: 1\nautostart: !!set xterm\n", AttributeError),
    crash("omap-tag-on-scalar", "version: 1\ndisplay: !!omap x\n", AttributeError),
    crash("yaml-1.3-directive", "%YAML 1.3\n---\nversion: 1\n", AssertionError),
])
def test_loader_never_raises_anything_but_config_error(load, content):
    with pytest.raises(ConfigError) as info:
        load(content)
    assert all(p.line >= 1 and p.col >= 1 for p in info.value.problems)


@bug("ruamel's ReusedAnchorWarning escapes as a Python warning, unlocated (a crash under -W error)",
     raises=ReusedAnchorWarning)
def test_reused_anchor_is_a_located_problem_or_accepted(load):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReusedAnchorWarning)
        try:
            load("version: 1\nautostart: [&a xterm, &a xclock]\n")
        except ConfigError as e:
            assert e.problems[0].line == 2


# --- validate: accepted documents that fail later ---------------------------------------
@bug("validate accepts a conversion or format spec that str.format then rejects in render()",
     raises=ValueError)
@pytest.mark.parametrize("command", ["websockify {port!x}", "websockify {port:d}"])
def test_websockify_command_that_validates_also_renders(load, command):
    try:
        config = load(f"version: 1\nwebsockify:\n  command: '{command}'\n")
    except ConfigError:
        return
    render(config, SESSION)


@bug("a vnc.command that formats to an empty line validates, then render() raises IndexError",
     raises=IndexError)
def test_vnc_command_that_validates_also_renders(load):
    try:
        config = load("version: 1\nvnc:\n  server: tigervnc\n  auth: none\n  command: '{rfbauth}'\n")
    except ConfigError:
        return
    render(config, Session("/run/r2d", 1, "tcp:6080", None, "/usr/bin/websockify"))


@bug("'programs: {app: null}' validates and the program silently disappears")
def test_program_without_body_is_an_error(load):
    with pytest.raises(ConfigError) as info:
        load("version: 1\nprograms:\n  app:\n")
    assert info.value.problems[0].key_path.startswith("programs.app")
    assert info.value.problems[0].line == 3


# --- messages ---------------------------------------------------------------------------
@bug("a nested duplicate key names the bare key ('depth'), not its dotted path")
def test_nested_duplicate_key_has_dotted_path(load):
    with pytest.raises(ConfigError) as info:
        load("version: 1\ndisplay:\n  depth: 24\n  depth: 16\n")
    assert info.value.problems[0].key_path == "display.depth"


@bug("a null value is located at the next token: another key's line, or past the end of file")
@pytest.mark.parametrize("content, line", [
    pytest.param("version: 1\nenvironment:\n  GOOD:\n  OTHER: x\n", 3, id="points-at-next-key"),
    pytest.param("version:\n", 1, id="points-past-end-of-file"),
])
def test_null_value_is_located_on_its_own_line(load, content, line):
    with pytest.raises(ConfigError) as info:
        load(content)
    assert info.value.problems[0].line == line


@bug("'0x800' is read as the hex integer 2048 and the message shows 2048, not what was written")
def test_geometry_message_shows_what_the_user_wrote(load):
    with pytest.raises(ConfigError) as info:
        load("version: 1\ndisplay:\n  geometry: 0x800\n")
    assert "2048" not in str(info.value)
    assert "0x800" in str(info.value)


@bug("validate.describe() names dates and binary values 'a tagged value (?)'")
@pytest.mark.parametrize("value", ["2001-01-01", "!!binary aGVsbG8="])
def test_describe_names_every_yaml_type(load, value):
    with pytest.raises(ConfigError) as info:
        load(f"version: {value}\n")
    assert "(?)" not in str(info.value)


@bug("a key with a line break makes a two-line message (one line per problem is the rule)")
def test_key_with_newline_gives_one_line(load):
    with pytest.raises(ConfigError) as info:
        load('version: 1\n"a\\nb": 1\n')
    assert len(str(info.value).splitlines()) == len(info.value.problems) == 1


@bug("a tab inside a literal block scalar is content, not indentation, but is rejected")
def test_tab_inside_block_scalar_is_allowed(load):
    config = load("version: 1\nprograms:\n  app:\n    command: |\n      printf 'a\\n'\n      \tprintf b\n")
    assert config.programs[0].command.endswith("\tprintf b\n")


# --- render -----------------------------------------------------------------------------
def _supervisord_values(text: str) -> configparser.RawConfigParser:
    # supervisord 4's parser: ';' and '#' after whitespace start a comment, even in a value.
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(text)
    return parser


@bug("' #' or ' ;' in a user string is cut off by supervisord's inline-comment rule")
@pytest.mark.parametrize("content", [
    pytest.param("version: 1\nprograms:\n  app:\n    command: 'echo hi #there'\n", id="program-command"),
    pytest.param("version: 1\nnovnc:\n  title: 'Lab ;1'\n", id="novnc-title-in-x-session"),
])
def test_supervisord_keeps_comment_characters(load, content):
    config = load(content)
    parser = _supervisord_values(render(config, SESSION)["supervisord.conf"].text)
    for section in parser.sections():
        if section.startswith("program:"):
            command = parser.get(section, "command") % {}
            shlex.split(command)  # an unbalanced quote means the value was cut


def _supervisord_environment(value: str) -> dict:
    """supervisord 4 reads KEY="v",KEY2="v2" with a non-POSIX shlex (no backslash escapes)
    and strips the quotes around each value."""
    lexer = shlex.shlex(value)
    lexer.wordchars += "/.+-():"
    tokens = list(lexer)
    result = {}
    for i in range(0, len(tokens), 4):
        chunk = tokens[i:i + 3]
        assert len(chunk) == 3 and chunk[1] == "=", f"supervisord cannot parse {value!r}"
        result[chunk[0]] = chunk[2].strip("'\"") % {}
    return result


@bug("supervisor_env escapes '\"' and '\\' with backslashes, which supervisord does not read")
@pytest.mark.parametrize("value", ['say "hi"', "C:\\temp"])
def test_environment_value_reaches_the_program_unchanged(load, value):
    config = load(f"version: 1\nenvironment:\n  X: '{value}'\nprograms:\n  app:\n    command: env\n")
    parser = _supervisord_values(render(config, SESSION)["supervisord.conf"].text)
    environment = _supervisord_environment(parser.get("program:app", "environment"))
    assert environment["X"] == dict(config.environment)["X"]


@bug("index.html.j2 is not autoescaped: select_autoescape(['html']) does not match '.html.j2'")
def test_index_html_escapes_the_title(load):
    config = load("version: 1\nnovnc:\n  title: 'R&D <lab>'\n")
    html = render(config, SESSION)["web/index.html"].text
    assert "<title>R&amp;D &lt;lab&gt;</title>" in html
