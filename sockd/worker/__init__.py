"""Everything that runs in a worker process: the app, uvicorn, the bus."""
