"""The database files: the schema, connections, atomic writes, the durable uploads record and the writer's lock."""
