"""The parts of ``gateway demo`` (what ``./run`` shows): a working day of packets, the local processes,
the clock that plays the day and its fault episode, and the checks of what the portal received."""
