"""Drop-in inbound endpoint speaking the national portal's classic adapter protocol: an existing
one-stop system switches to the gateway by changing only its ``adapter_url``."""

from connectors.national_portal.classic.routes import install

__all__ = ["install"]
