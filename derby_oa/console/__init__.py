"""The SQL console: the guard's checks and the bounded child process that runs a query."""
