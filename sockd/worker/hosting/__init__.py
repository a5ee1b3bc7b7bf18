"""Running the app in a worker: load it, serve passed sockets with uvicorn, talk to the
master, drain."""
