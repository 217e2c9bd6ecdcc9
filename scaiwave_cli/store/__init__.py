"""The ScaiWave schema, engine, migrations and media store (placeholder until the store issue)."""
