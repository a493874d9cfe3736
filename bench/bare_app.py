"""The HTTP ceiling: the bare server stack the gateway runs on (uvicorn, httptools, uvloop), one ASGI app
that reads the whole body and answers 202 with a small JSON — no framework, no work. What
POST /v1/packets is measured against (bench/delivery_bench.py --parts http, bench/report.py).

    .venv/bin/python -m uvicorn bench.bare_app:app --http httptools --loop uvloop --port 8099
"""

from typing import Any

BODY = b'{"accepted":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    status = 200 if scope["method"] == "GET" else 202
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
