"""environment.yml (conda users) and pyproject.toml (pip) must list the same packages, and the
README's plain-pip set-up must not send a CPU-only Linux user to the multi-GB CUDA build."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # the same package under conda's name


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment_names():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    names, pip_names = set(), set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip_names |= {_name(r) for r in entry["pip"] if not r.startswith("-")}
        elif _name(entry) not in ("python", "pip"):
            names.add(_name(entry))
    return names, pip_names


def test_every_pyproject_dependency_is_in_environment_yml():
    project = _pyproject()
    required = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["test"]
    required += project["tool"]["va-landscapes"]["install-without-dependencies"]
    conda, pip = _environment_names()
    missing = [r for r in required if CONDA_NAMES.get(_name(r), _name(r)) not in conda | pip]
    assert not missing, f"add to environment.yml: {missing}"


def test_environment_yml_lists_nothing_pyproject_lacks():
    project = _pyproject()
    declared = {CONDA_NAMES.get(_name(r), _name(r)) for r in project["project"]["dependencies"]
                + project["project"]["optional-dependencies"]["test"]
                + project["tool"]["va-landscapes"]["install-without-dependencies"]}
    conda, pip = _environment_names()
    extra = (conda | pip) - declared
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"


def test_version_floors_agree():
    project = _pyproject()
    floors = {CONDA_NAMES.get(_name(r), _name(r)): r[len(_name(r)):] for r in project["project"]["dependencies"]}
    text = (ROOT / "environment.yml").read_text()
    for name, floor in floors.items():
        if floor:
            assert f"{name}{floor}" in text, f"environment.yml should pin {name}{floor} like pyproject.toml"


def test_readme_gives_cpu_only_users_pytorchs_cpu_wheel_index():
    setup = (ROOT / "README.md").read_text().split("## Other ways to set up", 1)[1].split("\n## ", 1)[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup
