"""Connector to the national public-service portal (Cổng DVC quốc gia): classic adapter protocol,
the newer token protocol behind the same interface, and a faithful simulator for tests and demos."""
