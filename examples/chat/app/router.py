"""Which controller handles which event."""


def router(app):
    chat = app.io.controller.chat
    app.io.route("join", chat.join)
    app.io.route("say", chat.say)
    app.io.route("where", chat.where)
    app.io.route("disconnecting", chat.disconnecting)
