"""Finding and reading configs: presets by name, files by path, names and labels checked."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ..params import did_you_mean
from .schema import MAX_DEPTH, ConfigError
from .toml import shown


def experiments_dir() -> Path:
    """The folder of preset scenarios.

    Installed from a wheel, the presets travel inside the package (``dualpower_sim/experiments``);
    in a source checkout (an editable install) they are the repository's ``experiments/``.

    Returns:
        The folder (it may not exist in a broken installation).
    """
    here = Path(__file__).resolve().parents[1]
    packaged = here / "experiments"
    if packaged.is_dir():
        return packaged
    return here.parents[1] / "experiments"


def scenario_names() -> list[str]:
    """Names of the preset scenarios, sorted."""
    folder = experiments_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def locate_config(ref: str | Path, relative_to: Path | None) -> Path:
    """The file a config reference points to: a path, or a preset's name.

    Args:
        ref: A path to a ``.toml`` file, or a preset's name.
        relative_to: The file that names ``ref``: a relative path is read beside it.

    Returns:
        The file's path (it may not exist; :func:`read_toml` says so).
    """
    text = str(ref)
    path = Path(text).expanduser()
    if relative_to is not None and not path.is_absolute():
        beside = relative_to.parent / path
        if beside.suffix == ".toml" or "/" in text or "\\" in text:
            return beside
    if path.suffix == ".toml" or "/" in text or "\\" in text or path.exists():
        return path
    return experiments_dir() / f"{text}.toml"


def read_toml(path: Path, label: str) -> dict[str, Any]:
    """Read a config's (or a sweep's) TOML file.

    Args:
        path: The file.
        label: How the file is named in messages (see :func:`file_label`).

    Returns:
        The file's tables and values.

    Raises:
        ConfigError: If the file is missing (naming the closest preset when a name was meant),
            unreadable, not UTF-8, not TOML, or nested too deep.
    """
    if path.exists() and not path.is_file():
        raise ConfigError(f"{label}: not a file (a config is a .toml file)")
    if not path.is_file():
        known = scenario_names()
        hint = f"; scenarios: {', '.join(known)}" if known else ""
        if path.parent == experiments_dir() and not path.exists():  # a name, not a path
            meant = did_you_mean(path.stem, known, quote=False)
            raise ConfigError(f"{path.stem}: no such file or scenario{meant}{hint}")
        raise ConfigError(f"{label}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    if data is None or depth(data) > MAX_DEPTH:
        raise ConfigError(
            f"{label}: tables or lists nested too deep; allowed: at most {MAX_DEPTH} levels"
        )
    return data


def depth(value: Any) -> int:
    """How deep tables and lists nest in ``value`` (without recursion: any depth is safe)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


#: What a name (of a run or a sweep, and so of its results folder) may not hold.
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_name(name: Any, where: str) -> str:
    """A run's or a sweep's ``name``: a plain file name, as its results folder is named by it.

    Raises:
        ConfigError: For path separators, control characters, a leading dot (so ``..``), a
            blank name or one over 100 characters, naming ``where``.
    """
    allowed = (
        "a plain file name (it names the results folder): no / or \\, no control "
        "characters, not starting with a dot, 1 to 100 characters"
    )
    if (
        not isinstance(name, str)
        or not name.strip()
        or name.startswith(".")
        or _BAD_NAME.search(name)
        or any(0x80 <= ord(c) <= 0x9F for c in name)
        or len(name) > 100
    ):
        raise ConfigError(f"{where}: name = {shown(name)} is not allowed; allowed: {allowed}")
    return name


def file_label(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when it is inside it.

    Args:
        path: The file.

    Returns:
        Its path relative to the working folder, or as given when it lies outside.
    """
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(path)
    return str(relative) if relative.parts else str(path)
