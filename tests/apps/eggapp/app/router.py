"""Routes of the test app, across namespaces and system events."""


def router(app):
    io = app.io
    io.route("ping", io.controller.echo.ping)
    io.route("fail", io.controller.echo.fail)
    io.route("explode", io.controller.echo.ping)
    io.route("blocked", io.controller.echo.ping)
    io.route("add", io.controller.plain.add)
    io.route("trace", io.controller.plain.trace)
    io.route("config_value", io.controller.plain.config_value)
    io.route("reason", io.controller.plain.reason)
    io.route("kick", io.controller.plain.kick)
    io.route("disconnecting", io.controller.plain.on_disconnecting)
    io.route("disconnect", io.controller.plain.on_disconnect)
    io.route("error", io.controller.plain.on_error)
    io.of("/admin").route("hello", io.controller.admin.hello)
    io.of("/admin").route("disconnect", io.controller.admin.broken_disconnect)
    # Not configured in any config file: routes alone make the namespace exist.
    io.of("/free").route("hello", io.controller.admin.hello)
