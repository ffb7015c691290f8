"""Appliance software versions and the feature table that gates what a target can do."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from services.common.errors import InvalidInput, Precondition

# Debian/Ubuntu builds report e.g. "2.6.12-1+deb12u4"; only the leading numbers matter.
_VERSION = re.compile(r"^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:[-+~][0-9A-Za-z.+~-]{0,64})?$")

Version = tuple[int, int, int]


def parse_version(text: str, *, field: str) -> Version:
    match = _VERSION.fullmatch(text)
    if match is None:
        raise InvalidInput(f"{field} must be a version like 2.6.12", field=field)
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class FeatureTable:
    """Minimum software version per feature name, for one kind of software (e.g. haproxy)."""

    software: str
    minimums: Mapping[str, Version]

    def supports(self, feature: str, version: Version) -> bool:
        return version >= self.minimums[feature]

    def require(self, feature: str, version: Version) -> None:
        """Raises Precondition when the target's version cannot do the feature."""
        minimum = self.minimums[feature]
        if version < minimum:
            raise Precondition(
                f"feature {feature} requires {self.software} >= {format_version(minimum)}, "
                f"target runs {self.software} {format_version(version)}",
                field="target.haproxy_version",
            )
