"""The control socket: how ``sockd stop|reload|status`` reach a running master."""
