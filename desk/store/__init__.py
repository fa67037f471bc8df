"""The database layer: models, migrations, engine and repository functions."""
