"""The local SQLite file: schema, migrations, reads and batched writes."""
