"""``PARLEY_*`` environment variables as settings: how a list or table is written in one,
and which variables name no setting.

A list or table setting takes JSON in the environment (``PARLEY_MODELS='[{...}]'``),
as pydantic-settings reads it; a plain list of ids or paths (``admins``, ``sources``,
``discord_guilds``) also takes the comma-separated form a shell user writes first
(``PARLEY_ADMINS=slack:U1,discord:42``). A value of neither form is refused in one
line naming the variable and the form, instead of pydantic-settings' traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import EnvSettingsSource

from .errors import ConfigFileError

__all__ = ["PREFIX", "EnvironmentSource", "unknown_variables"]

PREFIX = "PARLEY_"
_PLAIN_ITEMS = (str, Path, int)  # a list of these is written comma-separated too


class EnvironmentSource(EnvSettingsSource):
    """The ``PARLEY_*`` variables, with lists and tables read as the module says."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        variable = f"{self.env_prefix}{field_name}".upper()
        plain = _is_plain_list(field.annotation)
        if plain and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError as exc:  # not a ValueError: pydantic-settings would wrap that
            problem = f"{variable} is not valid JSON: {_form(variable, field)}"
            raise ConfigFileError(problem) from exc


def _is_plain_list(annotation: Any) -> bool:
    return get_origin(annotation) is list and get_args(annotation)[0] in _PLAIN_ITEMS


def _form(variable: str, field: FieldInfo) -> str:
    """How ``variable`` is written, with an example."""
    if _is_plain_list(field.annotation):
        return f'write items separated by commas, or a JSON list: {variable}=\'["a", "b"]\''
    if get_origin(field.annotation) is list:
        return f'write a JSON list of tables: {variable}=\'[{{"name": "...", ...}}]\''
    if get_origin(field.annotation) is dict or _is_model(field.annotation):
        return f"write a JSON table: {variable}='{{\"key\": value}}'"
    return f"write JSON, as {variable}='...'"


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def unknown_variables(
    environ: Mapping[str, str], settings: Iterable[str], others: Iterable[str]
) -> list[str]:
    """One warning per ``PARLEY_*`` variable in ``environ`` that is none of ``settings``
    (the variables settings are read from) nor ``others`` (read elsewhere:
    ``PARLEY_CONFIG``, the variables holding keys), naming the closest of ``settings``
    when one is close (``PARLEY_TOPK``: ``PARLEY_TOP_K``)."""
    known = {name.upper() for name in settings}
    ignored = known | {name.upper() for name in others}
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in ignored:
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"environment variable {name} names no setting and is ignored{hint}")
    return warnings
