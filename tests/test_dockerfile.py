"""The Docker image, compose file and lock files keep the properties the README promises.

No Docker engine is needed: the Dockerfile is parsed as text, one instruction at a time.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")
DOCKERIGNORE = (ROOT / ".dockerignore").read_text(encoding="utf-8")
CONSTRAINTS = "requirements/constraints.txt"
RUNTIME = "requirements/runtime.txt"

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction, with continuation lines joined and comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        pending = ""
        result.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def stages(text: str) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            result.append([])
        assert result, "an instruction before the first FROM"
        result[-1].append((keyword, arguments))
    return result


FINAL = stages(DOCKERFILE)[-1]


def copy_sources(arguments: str) -> list[str]:
    """What a COPY instruction copies: every word but its flags and the destination."""
    words = [word for word in arguments.split() if not word.startswith("--")]
    return words[:-1]


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form instruction; fails for the shell form."""
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        pytest.fail(f"not exec form (a JSON array): {arguments}")
    assert isinstance(argv, list)
    assert all(isinstance(word, str) for word in argv)
    return argv


def last(stage: list[Instruction], keyword: str) -> str | None:
    found = [arguments for key, arguments in stage if key == keyword]
    return found[-1] if found else None


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(normalized(match.group()))
    return names


def pins(path: str) -> dict[str, str]:
    """name -> version of a lock file; fails on any line that is not an exact pin."""
    result = {}
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        assert match, f"{path}: not an exact pin: {line!r}"
        result[normalized(match.group(1))] = match.group(2)
    return result


def dependency_install(stage: list[Instruction]) -> int | None:
    for index, (keyword, arguments) in enumerate(stage):
        if keyword == "RUN" and "pip install" in arguments:
            return index
    return None


def builder() -> tuple[list[Instruction], int]:
    for stage in stages(DOCKERFILE):
        index = dependency_install(stage)
        if index is not None:
            return stage, index
    pytest.fail("no stage runs pip install")


def constraint_files(line: str) -> list[str]:
    return re.findall(r"(?:-c|--constraint)[ =](\S+)", line)


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    stage, install = builder()
    before = [copy_sources(args) for key, args in stage[:install] if key in ("COPY", "ADD")]
    assert before, "the lock files must be copied before the dependency install"
    for sources in before:
        for source in sources:
            assert source.startswith("requirements/") or source == "pyproject.toml", source
    # Only the dependencies: the project itself, and so its code, comes in a later layer.
    assert not re.search(r"pip install[^&;]*\s\.(\s|$)", stage[install][1])
    after = [
        source for key, args in stage[install:] if key == "COPY" for source in copy_sources(args)
    ]
    assert "bot" in after
    assert "cogs" in after


def test_dependency_install_uses_the_lock_files() -> None:
    stage, install = builder()
    command = stage[install][1]
    assert f"-r {RUNTIME}" in command
    assert CONSTRAINTS in constraint_files(command)
    # The project is installed after it without pulling any unpinned dependency.
    project = [args for key, args in stage[install + 1 :] if key == "RUN" and "pip install" in args]
    assert project
    assert all("--no-deps" in args for args in project)


def test_lock_files_pin_pyproject_without_the_project_itself() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = requirement_names(project["dependencies"])
    dev = requirement_names(project["optional-dependencies"]["dev"])
    everything, image = pins(CONSTRAINTS), pins(RUNTIME)
    assert runtime | dev <= everything.keys()
    assert runtime <= image.keys()
    assert not dev & image.keys(), "test and lint tools in the image's lock"
    assert normalized(project["name"]) not in everything.keys() | image.keys()
    # One set of versions: the image gets exactly what CI tests.
    assert {name: everything.get(name) for name in image} == image
    for path in (CONSTRAINTS, RUNTIME):
        assert "autogenerated by pip-compile" in (ROOT / path).read_text(encoding="utf-8")


def test_healthcheck_calls_healthz_on_the_http_port() -> None:
    healthcheck = last(FINAL, "HEALTHCHECK")
    assert healthcheck, "no HEALTHCHECK"
    options, _, command = healthcheck.partition("CMD ")
    assert command, f"HEALTHCHECK without CMD: {healthcheck}"
    argv = exec_form(command)
    assert "/healthz" in " ".join(argv)
    assert "HTTP_PORT" in " ".join(argv)
    env = " ".join(args for key, args in FINAL if key == "ENV")
    assert re.search(r"\bHTTP_PORT=8080\b", env)
    assert re.search(r"\bHTTP_HOST=0\.0\.0\.0\b", env)
    assert last(FINAL, "EXPOSE") == "8080"
    assert "--timeout=" in options


def test_entrypoint_is_exec_form_and_runs_the_bot() -> None:
    entrypoint = last(FINAL, "ENTRYPOINT")
    cmd = last(FINAL, "CMD")
    assert entrypoint or cmd
    argv = (exec_form(entrypoint) if entrypoint else []) + (exec_form(cmd) if cmd else [])
    runs_bot = [
        index
        for index in range(len(argv) - 2)
        if Path(argv[index]).name.startswith("python")
        and argv[index + 1 : index + 3] == ["-m", "bot"]
    ]
    assert runs_bot, argv
    assert last(FINAL, "STOPSIGNAL") in (None, "SIGTERM", "15")


def test_runs_as_a_non_root_user() -> None:
    user = last(FINAL, "USER")
    assert user, "no USER: the container would run as root"
    assert user.split(":")[0] not in ("root", "0")


def test_ci_and_readme_install_with_the_same_constraints_file() -> None:
    ci = [line for line in CI_RUN.splitlines() if "pip install" in line]
    quickstart = re.search(r"^## Quickstart\n(.*?)(?=^## )", README, re.M | re.S)
    assert quickstart
    readme = re.findall(r"^.*pip install.*$", quickstart.group(1), re.M)
    assert ci
    assert len(readme) == 2, "the Quickstart's start and test commands"
    for line in ci + readme:
        assert constraint_files(line) == [CONSTRAINTS], line
    assert (ROOT / CONSTRAINTS).is_file()


def test_compose_restarts_the_bot_and_keeps_its_data() -> None:
    lines = [line.split("#")[0].strip() for line in COMPOSE.splitlines()]
    restart = [line.partition(":")[2].strip() for line in lines if line.startswith("restart:")]
    assert restart in (["unless-stopped"], ["always"])
    assert "env_file: .env" in lines
    assert any(re.fullmatch(r"- \S+:/data", line) for line in lines)
    published = [line for line in lines if re.fullmatch(r"- \"?[\d.:]*8080\"?", line)]
    assert all(line.strip('- "').startswith("127.0.0.1:") for line in published), published


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build() -> None:
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.splitlines()}
    assert {".venv", ".git", ".env", "data", "tests", "bench", "__pycache__"} <= ignored
    assert not {"requirements", "bot", "cogs", "pyproject.toml"} & ignored
