"""The simulated database's SOAP 1.1: the request read with the gateway's hardened parser and checked as
strictly as the contract says (element order, formats); answers written in the WSDL's shape."""

from typing import Any

from lxml import etree

from gateway.kit import Unreadable, parse_any_xml

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
BCA = "http://dancuquocgia.bca"
DC = "http://www.mic.gov.vn/dancu/1.0"
OPERATIONS = ("TraCuuThongTinCongDan", "XacThucThongTinCongDan")
_ORDER = ("MaYeuCau", "MaDVC", "MaTichHop", "MaCanBo", "MaDonVi", "TaiKhoan", "SoDienThoai", "SoDinhDanh",
          "SoCMND", "HoVaTen", "NgayThangNamSinh")
_REQUIRED = ("MaYeuCau", "MaDVC", "MaTichHop", "MaCanBo", "MaDonVi", "HoVaTen", "NgayThangNamSinh")


class ClientFault(Exception):
    """The caller's request is wrong: a soap:Client fault."""


def read_request(data: bytes) -> tuple[str, dict[str, str]]:
    """(operation, fields) of a request envelope; ClientFault when it is not one the contract allows."""
    try:
        root = parse_any_xml(data)
    except Unreadable as exc:
        raise ClientFault(f"malformed XML: {exc.issue.message_en}") from None
    if root.tag != f"{{{SOAP}}}Envelope":
        raise ClientFault("not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or len(body) != 1:
        raise ClientFault("the Body must hold exactly one operation")
    call = body[0]
    operation = etree.QName(call).localname
    if etree.QName(call).namespace != BCA or operation not in OPERATIONS:
        raise ClientFault(f"unknown operation {call.tag}")
    fields: dict[str, str] = {}
    last = -1
    for child in call:
        name = etree.QName(child)
        if name.namespace != BCA or name.localname not in _ORDER:
            raise ClientFault(f"unexpected element {child.tag}")
        at = _ORDER.index(name.localname)
        if at <= last:
            raise ClientFault(f"element {name.localname} out of order")
        last = at
        if name.localname == "NgayThangNamSinh":
            fields.update(_birth(child))
        else:
            fields[name.localname] = (child.text or "").strip()
    missing = [f for f in _REQUIRED if not fields.get(f) and not (f == "NgayThangNamSinh" and "birth" in fields)]
    if missing:
        raise ClientFault(f"missing {', '.join(missing)}")
    if bool(fields.get("SoDinhDanh")) == bool(fields.get("SoCMND")):
        raise ClientFault("exactly one of SoDinhDanh and SoCMND")
    if fields.get("SoDinhDanh") and not (len(fields["SoDinhDanh"]) == 12 and fields["SoDinhDanh"].isdigit()):
        raise ClientFault("SoDinhDanh must be 12 digits")
    if fields.get("SoCMND") and not (len(fields["SoCMND"]) == 9 and fields["SoCMND"].isdigit()):
        raise ClientFault("SoCMND must be 9 digits")
    return operation, fields


def _birth(element: etree._Element) -> dict[str, str]:
    if len(element) != 1:
        raise ClientFault("NgayThangNamSinh holds one of NgayThangNam, Nam")
    child = element[0]
    name, value = etree.QName(child), (child.text or "").strip()
    if name.namespace != DC or name.localname not in ("NgayThangNam", "Nam"):
        raise ClientFault(f"unexpected element {child.tag}")
    if not value.isdigit() or len(value) != (8 if name.localname == "NgayThangNam" else 4):
        raise ClientFault(f"{name.localname} must be {'yyyyMMdd' if name.localname == 'NgayThangNam' else 'yyyy'}")
    return {"birth": value, "NgayThangNamSinh": value}


def _envelope(payload: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(payload)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _fill(parent: etree._Element, name: str, value: Any) -> None:
    element = etree.SubElement(parent, f"{{{DC}}}{name}")
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(element, key, inner)
    else:
        element.text = str(value)


def lookup_answer(record: dict[str, Any] | None) -> bytes:
    """TraCuuThongTinCongDanResponse: the person, or an empty CongDan (not found)."""
    answer = etree.Element(f"{{{BCA}}}TraCuuThongTinCongDanResponse", nsmap={None: BCA, "dc": DC})
    collection = etree.SubElement(answer, f"{{{DC}}}CongdanCollection")
    person = etree.SubElement(collection, f"{{{DC}}}CongDan")
    for key, value in (record or {}).items():
        _fill(person, key, value)
    return _envelope(answer)


def verify_answer(exists: bool) -> bytes:
    answer = etree.Element(f"{{{BCA}}}XacThucThongTinCongDanResponse", nsmap={None: BCA})
    etree.SubElement(answer, f"{{{BCA}}}TonTai").text = "true" if exists else "false"
    return _envelope(answer)


def fault(code: str, text: str) -> bytes:
    """A SOAP 1.1 fault (``code`` e.g. ``soap:Client``, ``soap:Server``, ``soap:Server.Busy``)."""
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    element = etree.SubElement(body, f"{{{SOAP}}}Fault")
    etree.SubElement(element, "faultcode").text = code
    etree.SubElement(element, "faultstring").text = text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
