"""The demo (``python -m demo``, what ``./run`` shows) and the local stand-ins it runs the gateway against:
a working day of packets, the local processes, the clock that plays the day and its fault episode, the
checks of what the portal received, the generic test destination (``testpeer``) and the configuration
pointing the gateway at them (``config.toml``). The product (gateway/, connectors/, signing/) never
imports it."""
