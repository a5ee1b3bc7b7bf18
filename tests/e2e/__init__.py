"""End to end: real sockd masters and workers, real clients, redis-server and nginx on loopback."""
