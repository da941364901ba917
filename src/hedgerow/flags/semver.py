"""Semantic versions the way the server's ``semver`` crate reads and orders them.

Before parsing, the server strips one leading ``v`` and surrounding whitespace, drops
leading zeros from all-digit core components (``3.08`` -> ``3.8``) and pads the core to
three components (``3.10`` -> ``3.10.0``). The result must then be a strict SemVer 2.0
version, pre-release and build metadata included. Ordering follows the crate: a
pre-release sorts before its release, pre-release identifiers compare numerically or
in ASCII order, and build metadata is compared too (so ``1.0.0+a != 1.0.0+b``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hedgerow.flags.values import to_text

_NUMBER = re.compile(r"0|[1-9][0-9]*")
_IDENTIFIER = re.compile(r"[0-9A-Za-z-]+")
_MAX = 2**64 - 1


@dataclass(frozen=True, order=False)
class Version:
    """A parsed version; compare with :attr:`sort_key`, test equality with ``==``."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    build: str = ""

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def sort_key(self) -> tuple:
        return (self.core, _pre_key(self.pre), _build_key(self.build))


def _pre_key(pre: str) -> tuple:
    # A release (no pre-release) sorts after every pre-release of the same core.
    if not pre:
        return (1,)
    parts = []
    for ident in pre.split("."):
        if ident.isdigit():
            parts.append((0, len(ident), ident))  # numeric: no leading zeros, so length first
        else:
            parts.append((1, 0, ident))
    return (0, tuple(parts))


def _build_key(build: str) -> tuple:
    parts = []
    for ident in build.split(".") if build else [""]:
        if ident.isdigit() or ident == "":
            value = ident.lstrip("0")
            parts.append((0, len(value), value, len(ident)))
        else:
            parts.append((1, 0, ident, 0))
    return tuple(parts)


def _strip_zeros(part: str) -> str:
    if part and part.isascii() and part.isdigit():
        return part.lstrip("0") or "0"
    return part


def normalize(text: str) -> str:
    """Apply the server's clean-up: strip one ``v``, trim, drop leading zeros, pad to 3."""
    text = text.removeprefix("v").strip()
    cut = min((i for i in (text.find("-"), text.find("+")) if i >= 0), default=len(text))
    core, suffix = text[:cut], text[cut:]
    parts = [_strip_zeros(p) for p in core.split(".")]
    while len(parts) < 3:
        parts.append("0")
    return ".".join(parts) + suffix


def parse_strict(text: str) -> Version | None:
    """Parse strict SemVer 2.0 (``MAJOR.MINOR.PATCH[-pre][+build]``) or return None."""
    text, plus, build = text.partition("+")
    if plus and not _identifiers_ok(build, numeric_leading_zero_ok=True):
        return None
    text, dash, pre = text.partition("-")
    if dash and not _identifiers_ok(pre, numeric_leading_zero_ok=False):
        return None
    parts = text.split(".")
    if len(parts) != 3 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    numbers = [int(p) for p in parts]
    if any(n > _MAX for n in numbers):
        return None
    return Version(numbers[0], numbers[1], numbers[2], pre, build)


def _identifiers_ok(text: str, *, numeric_leading_zero_ok: bool) -> bool:
    for ident in text.split("."):
        if not ident.isascii() or not _IDENTIFIER.fullmatch(ident):
            return False
        if not numeric_leading_zero_ok and ident.isdigit() and len(ident) > 1 and ident[0] == "0":
            return False
    return True


def parse_version(value: Any) -> Version | None:
    """The server's ``to_semver_representation`` of a property or filter value."""
    return _parse_text(to_text(value))


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Version | None:
    return parse_strict(normalize(text))


@dataclass(frozen=True)
class Requirement:
    """A single-comparator range ``[lower, upper)`` with the crate's pre-release rule.

    A version with a pre-release tag matches only when the requirement's own lower bound
    carries a pre-release on the same ``MAJOR.MINOR.PATCH``.
    """

    lower: Version
    upper: tuple[int, int, int] | None

    def matches(self, version: Version) -> bool:
        if version.sort_key[:2] < self.lower.sort_key[:2]:
            return False
        if self.upper is not None and (version.core >= self.upper):
            return False
        if version.pre:
            return bool(self.lower.pre) and version.core == self.lower.core
        return True


def _bounds_version(text: str) -> Version | None:
    version = parse_strict(text)
    if version is None or version.build:
        return None  # a requirement cannot carry build metadata
    return version


def tilde(value: Any) -> Requirement | None:
    """``~X.Y.Z``: at least X.Y.Z, below X.(Y+1).0."""
    lower = _bounds_version(normalize(to_text(value)))
    if lower is None:
        return None
    return Requirement(lower, (lower.major, lower.minor + 1, 0))


def caret(value: Any) -> Requirement | None:
    """``^X.Y.Z``: below the next change of the left-most non-zero component."""
    lower = _bounds_version(normalize(to_text(value)))
    if lower is None:
        return None
    if lower.major > 0:
        upper = (lower.major + 1, 0, 0)
    elif lower.minor > 0:
        upper = (0, lower.minor + 1, 0)
    else:
        upper = (0, 0, lower.patch + 1)
    return Requirement(lower, upper)


_WILDCARDS = ("x", "X", "*")


def wildcard(value: Any) -> Requirement | None:
    """``1.*``, ``1.2.*``, ``1.*.*``, ``*``; a value without a wildcard means ``^value``.

    The server hands ``1.2.*`` to the crate as the bare requirement ``1.2.x``; a bare
    requirement without a wildcard defaults to the caret operator there.
    """
    text = to_text(value).removeprefix("v").strip()
    parts = [_strip_zeros(p) for p in text.split(".")]
    if len(parts) > 3 or not parts[0]:
        return None
    first_wild = next((i for i, p in enumerate(parts) if p in _WILDCARDS), None)
    if first_wild is None:
        return _bare(parts)
    if any(p not in _WILDCARDS for p in parts[first_wild:]):
        return None  # "1.*.3" is not a valid requirement
    numbers = parts[:first_wild]
    if not all(_NUMBER.fullmatch(p) for p in numbers):
        return None
    nums = [int(p) for p in numbers]
    if not nums:
        return Requirement(Version(0, 0, 0), None)
    if len(nums) == 1:
        return Requirement(Version(nums[0], 0, 0), (nums[0] + 1, 0, 0))
    return Requirement(Version(nums[0], nums[1], 0), (nums[0], nums[1] + 1, 0))


def _bare(parts: list[str]) -> Requirement | None:
    """A requirement without operator: the crate reads ``1.2`` as ``^1.2`` (partial caret)."""
    if len(parts) == 3:
        return caret(".".join(parts))
    if not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    nums = [int(p) for p in parts]
    if len(nums) == 1:
        return Requirement(Version(nums[0], 0, 0), (nums[0] + 1, 0, 0))
    major, minor = nums
    upper = (major + 1, 0, 0) if major > 0 else (0, minor + 1, 0)
    return Requirement(Version(major, minor, 0), upper)
