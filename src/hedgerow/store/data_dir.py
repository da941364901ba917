"""The data directory: created (or tightened) so only its owner can enter it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OWN_FILES = ("meta.sqlite3", "events.duckdb")
"""Prefixes of the files the stores keep there (WAL, journal and lock files included)."""


def prepare_data_dir(path: Path) -> None:
    """Create ``path`` as 0700, or make an existing one 0700, and the stores' files in it
    0600 (files made by older versions, or with a looser umask, are tightened too)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)
    for entry in path.iterdir():
        if entry.name.startswith(OWN_FILES) and entry.is_file() and not entry.is_symlink():
            if stat.S_IMODE(entry.stat().st_mode) & 0o077:
                os.chmod(entry, PRIVATE_FILE)
