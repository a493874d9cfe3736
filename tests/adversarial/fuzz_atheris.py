"""Coverage-guided fuzzing of the hostile-input targets with atheris, by command for a bounded time
(not in CI: the suite runs the same targets with hypothesis, bounded, in ``test_fuzz.py``).

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python tests/adversarial/fuzz_atheris.py TARGET [-max_total_time=60] [-rss_limit_mb=1024] [CORPUS_DIR]

TARGET: ``validate-xml``, ``validate-json``, ``verify-xml``, ``verify-jws``, ``verify-pdf`` or ``classic``
(the readers of ``confined.py``). A finding is any exception out of the target (each reader returns a
report for every input), a run over ``-timeout`` seconds (a hang) or over ``-rss_limit_mb`` (memory);
libFuzzer then writes the input as ``crash-*`` / ``timeout-*`` / ``oom-*`` in the current directory.
Defaults: 60 s in all, 10 s per input, 1 GiB. Without a CORPUS_DIR, one is seeded in a temporary
directory from ``examples/`` (packets; for ``classic``, their bodies as classic items) and, for the
verifiers, from ``../shared/corpora``.
"""

import base64
import json
from pathlib import Path
import sys
import tempfile

import atheris

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

with atheris.instrument_imports(include=["gateway", "signing", "connectors", "tests.adversarial"]):
    import connectors.national_portal.inbound  # noqa: F401 - imported here to be instrumented
    import gateway.validate.pipeline  # noqa: F401 - imported here to be instrumented
    import signing.jws
    import signing.pades
    import signing.xmldsig  # noqa: F401 - imported here to be instrumented
    from tests.adversarial.confined import readers


TARGETS = ("validate-xml", "validate-json", "verify-xml", "verify-jws", "verify-pdf", "classic")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(__doc__)
    read = readers()[sys.argv[1]]

    def one(data: bytes) -> None:
        read(data)

    defaults = ["-max_total_time=60", "-timeout=10", "-rss_limit_mb=1024"]
    given = sys.argv[2:]
    options = [d for d in defaults if not any(g.startswith(d.split("=")[0] + "=") for g in given)]
    corpus = [] if any(not g.startswith("-") for g in given) else [_seeded(sys.argv[1])]
    atheris.Setup([sys.argv[0], *options, *given, *corpus], one)
    atheris.Fuzz()


def _seeded(target: str) -> str:
    """A temporary corpus directory with real documents of the target's kind to start mutating from."""
    directory = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    corpora = REPO.parent / "shared" / "corpora"
    if target == "verify-pdf":
        seeds = [p.read_bytes() for p in sorted((corpora / "pdf" / "pyhanko").glob("*.pdf"))]
    elif target == "verify-xml":
        seeds = [p.read_bytes() for p in sorted((corpora / "xsw").rglob("*.xml"))]
        seeds += [base64.b64decode(p.read_bytes()) for p in sorted((corpora / "xsw").rglob("*.base64"))]
    elif target == "classic":
        seeds = [json.dumps({"session": "s", "madonvi": "000.00.01.H22", "service": "DongBoHoSoMC",
                             "data": [json.loads(p.read_bytes())["NoiDung"][p.stem]]}, ensure_ascii=False).encode()
                 for p in sorted((REPO / "examples").glob("*.json"))]
    else:
        seeds = [p.read_bytes() for p in sorted((REPO / "examples").glob("*." + target.rsplit("-", 1)[-1]))]
    for number, seed in enumerate(seeds):
        (directory / f"seed-{number}").write_bytes(seed)
    return str(directory)


if __name__ == "__main__":
    main()
