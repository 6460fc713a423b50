"""Officers' uploads: reading their files, checking rows, commit, publish and undo."""
