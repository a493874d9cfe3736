"""What the semantic rules read of a packet, over either of two sources.

``ModelView`` reads the typed model (JSON packets, and XML the compiled schema refused).
``XmlView`` reads the lxml tree of an XML packet the compiled XSD accepted: the rules then
need no tree → data walk and no model, which are most of the cost of validating XML. Both
answer alike: a simple field's value (``int`` for integer formats), whether a field is
present, and a nested field's records.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree
from pydantic import BaseModel

from gateway.packets.catalogue import field_map, fields_of
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.packets.schema_gen import NAMESPACE

_PREFIX = f"{{{NAMESPACE}}}"


class View(Protocol):
    @property
    def record(self) -> type[BaseModel]: ...

    def get(self, name: str) -> Any:
        """A simple field's value (``int`` for integer formats), None when absent."""

    def has(self, name: str) -> bool: ...

    def items(self, name: str) -> Sequence["View"]:
        """A nested field's records: one for a single record, none when absent."""


class ModelView:
    __slots__ = ("model",)

    def __init__(self, model: BaseModel) -> None:
        self.model = model

    @property
    def record(self) -> type[BaseModel]:
        return type(self.model)

    def get(self, name: str) -> Any:
        return getattr(self.model, name, None)

    def has(self, name: str) -> bool:
        return getattr(self.model, name, None) is not None

    def items(self, name: str) -> Sequence[View]:
        value = getattr(self.model, name)
        if value is None:
            return ()
        if isinstance(value, list):
            return [ModelView(item) for item in value]
        return (ModelView(value),)


# A record's element tag → (field name, what it holds: str, int, or the nested record's type).
_Plan = dict[str, tuple[str, type]]
Reading = Mapping[type[BaseModel], _Plan]  # how to read each record


def reading(reads: Mapping[type[BaseModel], frozenset[str]]) -> Reading:
    """How to read the fields the rules read (``reads``, per record): prepared once."""
    return {record: {_PREFIX + spec.name: (spec.name, spec.record if spec.record is not None else
                                           int if spec.format is not None and spec.format.base == "integer"
                                           else str)
                     for spec in fields_of(record) if spec.name in names}
            for record, names in reads.items()}


class XmlView:
    """An element of a packet the compiled XSD accepted: its children are the record's fields,
    in order, each at most once unless repeated, with values of the right lexical form.
    Only the fields in ``reading`` are read: asking for another is a KeyError, not a silent None."""

    __slots__ = ("record", "_reading", "_values", "_children", "_views")

    def __init__(self, element: etree._Element, record: type[BaseModel], reading: Reading) -> None:
        self.record, self._reading = record, reading
        plan = reading[record]
        values: dict[str, Any] = {}
        children: dict[str, tuple[type[BaseModel], list[etree._Element]]] = {}
        # One pass over the children: cheaper than a look-up per field the rules ask for.
        for child in element:
            step = plan.get(child.tag)
            if step is None:
                continue
            name, kind = step
            if kind is str:
                values[name] = child.text or ""  # what xml_codec.to_data gives the model
            elif kind is int:
                values[name] = int(child.text)  # digits, by the XSD
            elif name in children:
                children[name][1].append(child)
            else:
                children[name] = (kind, [child])
        self._values, self._children = values, children
        self._views: dict[str, Sequence[View]] | None = None

    def _known(self, name: str) -> None:
        if (self._reading[self.record].get(_PREFIX + name) or ("",))[0] != name:
            raise KeyError(f"{self.record.__name__}.{name} is not in the fields the rules read")

    def get(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None:
            self._known(name)
        return value

    def has(self, name: str) -> bool:
        if name in self._values or name in self._children:
            return True
        self._known(name)
        return False

    def items(self, name: str) -> Sequence[View]:
        views = self._views.get(name) if self._views is not None else None
        if views is None:
            found = self._children.get(name)
            if found is None:
                self._known(name)
                views = ()
            else:
                record, elements = found
                views = [XmlView(element, record, self._reading) for element in elements]
            if self._views is None:
                self._views = {}
            self._views[name] = views
        return views


@dataclass(frozen=True, slots=True)
class PacketFacts:
    """The envelope and the body of one packet."""

    envelope: View
    body_type: str
    body: View

    @property
    def dossier_code(self) -> str | None:
        return self.body.get("MaHoSo") if "MaHoSo" in field_map(self.body.record) else None

    def heading(self) -> tuple[str, str, str | None]:
        """(MaGoiTin, LoaiGoiTin, MaHoSo): what a report names the packet by."""
        return self.envelope.get("MaGoiTin"), self.envelope.get("LoaiGoiTin"), self.dossier_code


def of_model(packet: GoiTin) -> PacketFacts:
    body = packet.body
    return PacketFacts(ModelView(packet), type(body).__name__, ModelView(body))


def of_xml(root: etree._Element, reading: Reading) -> PacketFacts:
    """The view of a packet whose tree the compiled XSD accepted (else its shape is not known)."""
    envelope = XmlView(root, GoiTin, reading)
    element = envelope._children["NoiDung"][1][0][0]  # the XSD's choice: exactly one body
    body_type = element.tag[len(_PREFIX):]
    return PacketFacts(envelope, body_type, XmlView(element, BODY_TYPES[body_type], reading))
