"""``python -m connectors.population_db report``: the connector's commands before the registry mounts them
as ``gateway population-db …``."""

from connectors.population_db.cli import app

if __name__ == "__main__":
    app()()
