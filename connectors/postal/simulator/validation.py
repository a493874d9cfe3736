"""Strict reading of an order, as the real service is: every required field present and of its type,
postal codes integers (or digits as text, as clients send them), phones and e-mails well formed, no
field it does not know. Errors quote the offending value, as real services do (the gateway must mask it)."""

from typing import Any

from connectors.postal.simulator.state import EMAIL, ITEM_CODE, PHONE

TEXT_REQUIRED = ("CustomerCode", "OrderNumber", "SenderName", "SenderAddress", "SenderTel", "ReceiverName",
                 "ReceiverAddress", "ReceiverTel")
CODES_REQUIRED = ("SenderProvince", "SenderDistrict", "ReceiverProvince", "ReceiverDistrict")
OPTIONAL = ("ItemCode", "CODAmount", "SenderEmail", "SenderDesc", "Description", "ReceiverEmail", "Weight")
KNOWN = frozenset(TEXT_REQUIRED + CODES_REQUIRED + OPTIONAL)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def order_errors(body: Any, customer_code: str) -> list[str]:
    if not isinstance(body, dict):
        return ["Dữ liệu đơn hàng phải là một đối tượng JSON"]
    errors = [f"Trường không hỗ trợ: {name}" for name in sorted(set(body) - KNOWN)]
    for name in TEXT_REQUIRED:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"Thiếu {name}")
    if isinstance(body.get("CustomerCode"), str) and body["CustomerCode"] != customer_code:
        errors.append(f"Mã khách hàng không đúng: {body['CustomerCode']}")
    number = body.get("OrderNumber")
    if isinstance(number, str) and (len(number) > 100 or any(c.isspace() for c in number)):
        errors.append("OrderNumber tối đa 100 ký tự, không có khoảng trắng")
    for name in CODES_REQUIRED:
        value = _integer(body.get(name))
        if value is None or value <= 0:
            errors.append(f"{name} phải là mã bưu chính (số nguyên dương), nhận được: {body.get(name)!r}")
    for name in ("SenderTel", "ReceiverTel"):
        value = body.get(name)
        if isinstance(value, str) and value.strip() and not PHONE.match(value.replace(" ", "").replace(".", "")):
            errors.append(f"{name} không hợp lệ: {value}")
    for name in ("SenderEmail", "ReceiverEmail"):
        value = body.get(name)
        if value not in (None, "") and (not isinstance(value, str) or not EMAIL.match(value)):
            errors.append(f"{name} không hợp lệ: {value}")
    for name in ("CODAmount", "Weight"):
        value = _integer(body.get(name))
        if name in body and (value is None or value < 0 or (name == "Weight" and value == 0)):
            errors.append(f"{name} phải là số nguyên không âm, nhận được: {body[name]!r}")
    item = body.get("ItemCode")
    if item not in (None, "") and (not isinstance(item, str) or not ITEM_CODE.match(item)):
        errors.append(f"ItemCode không đúng dạng (vd. EI123456789VN): {item!r}")
    for name in ("ReceiverName", "ReceiverAddress", "SenderName", "SenderAddress", "Description", "SenderDesc"):
        value = body.get(name)
        if isinstance(value, str) and len(value) > 500:
            errors.append(f"{name} tối đa 500 ký tự")
    return errors
