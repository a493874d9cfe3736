"""Evidence bundles: one zip with everything the gateway knows about a dossier, verifiable offline."""
