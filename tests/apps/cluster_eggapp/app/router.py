"""The routes of the app-model cluster test: every call of ``app.io.of(ns)`` from a client."""

import os


def router(app):
    crew = app.io.controller.crew
    for event in ("join", "members", "shout", "promote", "kick", "greet_others"):
        app.io.route(event, getattr(crew, event))
    app.io.of("/").on("greet", lambda name: {"pid": os.getpid(), "greeting": f"hi {name}"})
