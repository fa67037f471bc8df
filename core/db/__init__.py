"""The database: engine and migrations, models, repositories."""
