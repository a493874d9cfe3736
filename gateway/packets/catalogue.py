"""Reads the typed model as a field catalogue: which fields a record has, in order,
whether each is required or repeated, and its nested record or value format.

The schema generator, the XML codec and the error reporter all walk the model
through this one view.
"""

from dataclasses import dataclass
from functools import cache
import types
import typing

from pydantic import BaseModel

from gateway.packets.formats import Format


@dataclass(frozen=True)
class FieldSpec:
    name: str
    required: bool
    repeated: bool
    record: type[BaseModel] | None  # a nested record, or
    format: Format | None  # a simple value's format

    @property
    def is_pii(self) -> bool:
        return self.format is not None and self.format.pii


def _strip_optional(annotation: typing.Any) -> typing.Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


@cache
def fields_of(record: type[BaseModel]) -> tuple[FieldSpec, ...]:
    specs = []
    for name, info in record.model_fields.items():
        annotation = _strip_optional(info.annotation)
        repeated = typing.get_origin(annotation) is list
        if repeated:
            (annotation,) = typing.get_args(annotation)
        metadata = list(info.metadata)
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            specs.append(FieldSpec(name, info.is_required(), repeated, annotation, None))
            continue
        formats = [m for m in metadata if isinstance(m, Format)]
        if len(formats) != 1:
            raise TypeError(f"{record.__name__}.{name} needs exactly one Format in its annotation")
        specs.append(FieldSpec(name, info.is_required(), repeated, None, formats[0]))
    return tuple(specs)


@cache
def field_map(record: type[BaseModel]) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in fields_of(record)}


def spec_at(root: type[BaseModel], names: typing.Sequence[str]) -> FieldSpec | None:
    """The field at a path of field names below ``root`` (list indexes left out), if it exists."""
    record: type[BaseModel] | None = root
    spec = None
    for name in names:
        if record is None:
            return None
        spec = field_map(record).get(name)
        if spec is None:
            return None
        record = spec.record
    return spec


def all_records(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every record reachable from ``root``, depth first, each once."""
    seen: list[type[BaseModel]] = []

    def visit(record: type[BaseModel]) -> None:
        if record in seen:
            return
        seen.append(record)
        for spec in fields_of(record):
            if spec.record is not None:
                visit(spec.record)

    visit(root)
    return seen
