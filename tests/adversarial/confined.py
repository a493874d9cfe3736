"""Runs one hostile input through one reader in a forked child under resource limits.

A long-lived harness process (``python tests/adversarial/confined.py``) imports the readers once,
then for each request on stdin — one JSON line ``{"reader", "path", "cpu_seconds", "memory_mb"}`` —
forks a child that sets ``RLIMIT_CPU`` and ``RLIMIT_AS`` (its address space at fork plus the memory
budget), reads the file and prints the reader's outcome. The harness answers one JSON line:
the outcome, how the child ended (``exit`` code or ``signal``) and its peak RSS from ``wait4``.

The bounds are enforced by the kernel, not by a clock: a reader that loops is killed by SIGXCPU,
one that grows past the budget gets a MemoryError, and either shows as an outcome other than the
expected one. The outcome is a short, stable text: the Validator's first rule, a signature
verdict and reason, or the classic endpoint's refusal.
"""

from collections.abc import Callable
from datetime import datetime, UTC
import json
import os
from pathlib import Path
import resource
import signal
import sys
import traceback

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _validate(encoding: str) -> Callable[[bytes], str]:
    from gateway.config import Config
    from gateway.validate.pipeline import Validator

    validator = Validator(Config.load(None))

    def read(data: bytes) -> str:
        report = validator.validate(data, encoding)
        return "valid" if report.valid else ",".join(dict.fromkeys(error.rule for error in report.errors))

    return read


def _signature(kind: str) -> Callable[[bytes], str]:
    from signing.jws import verify_jws
    from signing.pades import verify_pdf
    from signing.trust import TrustPolicy
    from signing.xmldsig import verify_xml

    policy = TrustPolicy("hostile")  # the gateway's algorithm policy, no anchor: nothing can pass
    at = datetime(2021, 6, 1, tzinfo=UTC)

    def read(data: bytes) -> str:
        if kind == "xml":
            report = verify_xml(data, policy, at=at)[0]
        elif kind == "jws":
            report = verify_jws(data, policy, at=at)[0]
        else:
            report = verify_pdf(data, policy, at=at)
        first = report.signatures[0]
        return f"{report.verdict.name.lower()}:{first.reason.name.lower()}"

    return read


def _classic(data: bytes) -> str:
    """What the classic endpoint does before anything is stored: read the JSON, normalise each item."""
    from connectors.national_portal import inbound
    from gateway.validate import wellformed

    try:
        parsed = wellformed.parse_json_document(wellformed.decode_utf8(data).removeprefix("\ufeff"))
    except wellformed.Unreadable as exc:
        return f"refused:{exc.issue.rule}"
    items = parsed if isinstance(parsed, list) else parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        return "refused:shape"
    for item in items:
        if isinstance(item, dict):
            inbound.normalised("DongBoHoSoMC", item)
    return "normalised"


def _spin(data: bytes) -> str:
    while True:  # the harness's own check: a reader that never ends is killed
        pass


def _balloon(data: bytes) -> str:
    hoard = []
    while True:  # the harness's own check: a reader that keeps growing runs out of address space
        hoard.append(bytearray(16 * 1024 * 1024))


def readers() -> dict[str, Callable[[bytes], str]]:
    return {"validate-xml": _validate("xml"), "validate-json": _validate("json"),
            "verify-xml": _signature("xml"), "verify-jws": _signature("jws"), "verify-pdf": _signature("pdf"),
            "classic": _classic, "spin": _spin, "balloon": _balloon}


def _child(read: Callable[[bytes], str], path: str, cpu_seconds: int, memory_mb: int, out: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    with open("/proc/self/statm") as statm:  # pages of address space already mapped at fork
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    limit = mapped + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome = read(Path(path).read_bytes())
    except BaseException as exc:  # noqa: BLE001 - any escape is the finding, reported by type
        outcome = f"raised:{type(exc).__name__}"
        traceback.print_exc(file=sys.stderr)
    os.write(out, outcome.encode("utf-8"))


def run(read: Callable[[bytes], str], request: dict[str, object]) -> dict[str, object]:
    into, out = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(into)
        code = 0
        try:
            _child(read, str(request["path"]), int(request["cpu_seconds"]), int(request["memory_mb"]), out)
        except BaseException:  # noqa: BLE001 - the forked child says any failure by its exit code
            code = 70
        os._exit(code)
    os.close(out)
    with os.fdopen(into, "rb") as pipe:
        outcome = pipe.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(pid, 0)
    ended = {"signal": signal.Signals(os.WTERMSIG(status)).name} if os.WIFSIGNALED(status) \
        else {"exit": os.WEXITSTATUS(status)}
    return {"outcome": outcome, **ended, "peak_rss_kb": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def main() -> None:
    table = readers()
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(run(table[request["reader"]], request)), flush=True)


if __name__ == "__main__":
    main()
