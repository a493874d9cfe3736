"""Reading untrusted JSON: no duplicate keys, no NaN/Infinity, bounded depth, no lone surrogates.
Takes decoded text (``safe_input.decode_utf8``); every failure is an ``Unreadable``.

The one hardened JSON reader of the project: JWS headers and payloads are read with it, and the
gateway's validator (``gateway.validate.wellformed``) reads packets through it.
"""

from collections.abc import Callable, Iterator
import json
import re
import sys
from typing import Any

from signing import messages
from signing.safe_input import Unreadable, explained, problems


class _DuplicateKey(Exception):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _constant(token: str) -> Any:
    raise ValueError(token)


# Packets nest about eight levels deep. Python's own limit (~1,000) is no bound: text
# normalisation walks the data recursively and would hit it on hostile input.
MAX_JSON_DEPTH = 64


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _members(item: dict[str, Any] | list[Any], path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, key or None, value) of each member of an object or array."""
    if isinstance(item, dict):
        return ((f"{path}/{key}" if path else key, key, child) for key, child in item.items())
    return ((f"{path}[{i}]", None, child) for i, child in enumerate(item, 1))


def _containers(value: Any) -> Iterator[tuple[Any, int, str]]:
    """Every object and array in ``value`` with its depth and path, without recursion."""
    stack = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        yield item, depth, path
        stack.extend((child, depth + 1, at) for at, _, child in _members(item, path)
                     if isinstance(child, (dict, list)))


def _lone_surrogate(value: Any, label: Callable[[str], str]) -> Unreadable | None:
    """A key or string holding a lone surrogate (from an escape such as ``\\uD800``), if any."""
    for item, _, path in _containers(value):
        for at, key, child in _members(item, path):
            for text in (key, child):
                bad = _SURROGATE.search(text) if isinstance(text, str) else None
                if bad:
                    at = at.encode("utf-8", "backslashreplace").decode()
                    return Unreadable("text.not_unicode", path=at, field=label(at), code=f"{ord(bad.group()):04X}")
    return None


# Python's words for a JSON syntax error, as a one-stop official would read them (signing.messages).
_JSON_PROBLEMS = problems(messages.JSON_PROBLEMS)


def _as_is(path: str) -> str:
    return path


def parse_json(text: str, label: Callable[[str], str] = _as_is) -> dict[str, Any]:
    """A JSON object (a packet, a JWS header), or ``Unreadable``."""
    value = parse_json_document(text, label)
    if not isinstance(value, dict):
        raise Unreadable("json.not_object")
    return value


def parse_json_document(text: str, label: Callable[[str], str] = _as_is) -> dict[str, Any] | list[Any]:
    """An object or an array (the classic protocol's bare-array body), read as hardened as a packet.
    ``label`` names a member's path in messages (the validator shows the path below the packet's body)."""
    try:
        value = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_object, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        detail = explained(exc.msg, _JSON_PROBLEMS, exc.lineno, exc.colno)
        raise Unreadable("json.malformed", line=exc.lineno, column=exc.colno, detail=detail) from None
    except _DuplicateKey as exc:
        raise Unreadable("json.duplicate_key", key=exc.args[0]) from None
    except RecursionError:
        raise Unreadable("json.too_deep") from None
    except ValueError as exc:  # NaN, Infinity; or a number of more digits than Python converts
        if exc.args[0] in ("NaN", "Infinity", "-Infinity"):
            raise Unreadable("json.not_number", token=exc.args[0]) from None
        raise Unreadable("json.malformed",
                         detail=f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    if not isinstance(value, (dict, list)):
        raise Unreadable("json.not_object")
    # Depth is at most the number of brackets: most packets need no walk at all.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and any(
            depth > MAX_JSON_DEPTH for _, depth, _ in _containers(value)):
        raise Unreadable("json.too_deep")
    # A lone surrogate escape makes a string that is not Unicode, which no later layer can
    # even pass on (the JSON Schema validator cannot take it): refuse it here.
    if _SURROGATE_ESCAPE.search(text):
        found = _lone_surrogate(value, label)
        if found is not None:
            raise found
    return value
