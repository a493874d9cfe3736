"""A gateway process for the concurrency test: accepts packets and writes operator entries, ``rounds`` times."""

from dataclasses import replace
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for tests.audit

from gateway.store import open_store
from tests.audit.conftest import packet


def main(url: str, name: str, rounds: str) -> None:
    store = open_store(url, migrate=False)
    try:
        for n in range(int(rounds)):
            store.accept(replace(packet(f"{name}-{n}"), sender=name), ["postal"])
            store.audit(name, "look-up", f"{name}-{n}", {"round": n})
    finally:
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
