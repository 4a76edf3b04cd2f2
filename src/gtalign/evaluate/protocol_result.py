"""The typed result of one evaluation protocol, and how it is read from and written to a results file.

Each protocol returns a small frozen dataclass (`SvmResult`, `KendallResult`, ...) instead of a dict: its fields
are the numbers, `summary()` gives the headline values a report shows, `to_json()` the JSON object stored under
`"numbers"` in a results file, and `from_json()` reads one back. The headline fields are required; the details
(per-class values, counts, the options echoed back) default to empty, so results files written by hand or by an
older version, holding only the headline numbers, still load.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, TypeVar

from gtalign.errors import GtalignError

R = TypeVar("R", bound="ProtocolResult")


def jsonable(value: Any) -> Any:
    """`value` with anything JSON cannot hold (callables, paths, numpy scalars) turned into names or numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return getattr(value, "__name__", str(value))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProtocolResult:
    """Base of every protocol's result: JSON in and out by field name; fields that are None are not written."""

    protocol: ClassVar[str] = ""

    def summary(self) -> dict[str, float | None]:
        """The headline values by setting (one column of a report table each, "" for a single one), unscaled."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON object, in field order."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
        """The result stored as `data` (the `"numbers"` of a results file); unknown keys are ignored."""
        if not isinstance(data, Mapping):
            raise GtalignError(f"{cls.protocol} results: expected a JSON object of numbers, got {data!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        missing = sorted(required - set(data))
        if missing:
            raise GtalignError(f"{cls.protocol} results: expected the numbers {sorted(required)}, "
                               f"missing {missing}")
        return cls(**{k: v for k, v in data.items() if k in names})
