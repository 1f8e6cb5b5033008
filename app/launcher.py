"""Start Streamlit with the settings in streamlit_config/ (Streamlit only reads .streamlit/)."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_SCRIPT = Path(__file__).resolve().parent / "streamlit_app.py"
CONFIG_FILE = ROOT / "streamlit_config" / "config.toml"


def config_flags(path: Path = CONFIG_FILE, **overrides: object) -> list[str]:
    """Every setting of the TOML file as a `--section.key=value` flag; overrides win."""
    settings: dict[str, object] = {}
    if path.exists():
        with open(path, "rb") as fh:
            for section, values in tomllib.load(fh).items():
                for key, value in values.items():
                    settings[f"{section}.{key}"] = value
    settings.update(overrides)
    flags = []
    for key, value in settings.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        flags.append(f"--{key}={text}")
    return flags


def streamlit_command(port: int | None = None, address: str | None = None) -> list[str]:
    overrides: dict[str, object] = {}
    if port is not None:
        overrides["server.port"] = port
    if address is not None:
        overrides["server.address"] = address
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), *config_flags(**overrides)]


def serve(store: str | None = None, port: int | None = None, address: str | None = None) -> int:
    """Replace this process with Streamlit, so stopping it (Ctrl-C, a service manager, a test)
    stops the server itself rather than leaving an orphaned child behind."""
    env = os.environ.copy()
    if store:
        if "://" in store:
            env["DATABASE_URL"] = store
        else:
            env["SHOUHU_STORE"] = str(Path(store).resolve())
            env.pop("DATABASE_URL", None)
    os.chdir(ROOT)
    command = streamlit_command(port, address)
    sys.stdout.flush()
    os.execve(command[0], command, env)
    return 0  # not reached
