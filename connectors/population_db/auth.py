"""The database's direct-access headers, made for every call: ``Timestamp`` (epoch seconds or milliseconds),
``Authorization: Basic base64(username ":" sha256hex(auth_url + username + timestamp + secret))``,
``X-Road-Client`` and ``ApiKey``."""

import base64
from collections.abc import Callable
import hashlib
import time

from connectors.population_db.settings import PopulationSettings


def auth_headers(settings: PopulationSettings, url: str, clock: Callable[[], float] = time.time) -> dict[str, str]:
    now = clock()
    timestamp = str(int(now * 1000) if settings.timestamp_unit == "milliseconds" else int(now))
    auth_url = settings.auth_url or url
    digest = hashlib.sha256(f"{auth_url}{settings.username}{timestamp}{settings.secret}".encode()).hexdigest()
    token = base64.b64encode(f"{settings.username}:{digest}".encode()).decode("ascii")
    headers = {"Timestamp": timestamp, "Authorization": f"Basic {token}"}
    if settings.x_road_client:
        headers["X-Road-Client"] = settings.x_road_client
    if settings.api_key:
        headers["ApiKey"] = settings.api_key
    return headers
