"""Which controller handles which event."""


def router(app):
    app.io.route("join", app.io.controller.chat.join)
    app.io.route("say", app.io.controller.chat.say)
