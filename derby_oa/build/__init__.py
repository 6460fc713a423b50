"""Building the database: obtaining published files, running the source adapters, recording what changed."""
