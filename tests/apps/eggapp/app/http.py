"""The test app's HTTP side: a login that sets the session, routes that show precedence,
and a lifespan that proves the app's startup ran in the worker."""

from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

STARTED: list[bool] = []


@asynccontextmanager
async def lifespan(app):
    STARTED.append(True)
    yield


async def login(request):
    """``POST /login`` with a JSON object: it becomes the session."""
    request.session.update(await request.json())
    return JSONResponse(request.session)


async def status(request):
    return JSONResponse({"started": bool(STARTED), "session": request.session})


async def text(request):
    return PlainTextResponse(f"http {request.url.path}")


app = Starlette(
    routes=[
        Route("/login", login, methods=["POST"]),
        Route("/status", status),
        Route("/", text),
        Route("/public/hello.txt", text),  # shadowed: the file in app/public/ wins
        Route("/public/missing.txt", text),  # no such file: reaches the app
    ],
    lifespan=lifespan,
)
