"""The Jinja environment every template backend renders with: StrictUndefined, and only values
that went through one of the backend's strict filters may reach the output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import jinja2


class Checked(str):
    """A string that went through one of a backend's strict filters."""


def strict(check: Callable[[object], Checked]) -> Callable[[object], Checked]:
    """The filter `check`, failing as StrictUndefined does when handed a missing value."""

    def apply(value: object) -> Checked:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()  # StrictUndefined: a missing key is a bug
        return check(value)

    return apply


def environment(
    template_dir: str,
    default_dir: Path,
    filters: Mapping[str, Callable[[object], Checked]],
    backend_name: str,
) -> jinja2.Environment:
    """Templates from template_dir (default_dir when empty), with `filters` the only way a value
    reaches the output."""

    def only_checked(value: object) -> object:
        # Every {{ }} must end in a strict filter; a bare value here is a template bug.
        if not isinstance(value, Checked):
            raise TypeError(f"unfiltered value reached the {backend_name} template: {value!r}")
        return value

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir or str(default_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=only_checked,
    )
    env.filters.update(filters)
    return env
