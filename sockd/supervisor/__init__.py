"""Everything that runs in the master process. Nothing here imports the app."""
