# sockd as a container: the master is PID 1, drains on SIGTERM and reaps every child.
#   docker build -t chat --build-arg APP=examples/chat .
#   docker run -p 7001:7001 -e SOCKD_SESSION_SECRET=... -e SOCKD_WORKERS=8 chat
# Settings come from SOCKD_* variables (README, "Settings"); logs go to stderr.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sockd ./sockd
RUN python -m venv /opt/sockd \
    && /opt/sockd/bin/pip install --no-cache-dir .

FROM python:${PYTHON_VERSION}-slim
ARG APP=examples/chat
RUN useradd --system --uid 10001 --home-dir /srv/app --shell /usr/sbin/nologin sockd
COPY --from=build /opt/sockd /opt/sockd
# The app and its config/, owned by root: the service user can read, not change them.
COPY ${APP} /srv/app
# The container's defaults, as settings variables: `docker run -e SOCKD_WORKERS=8` replaces
# one, and so does a CMD of your own. Variables win over the app's config files.
# SOCKD_GRACEFUL_TIMEOUT stays under `docker stop`'s 10 s, after which Docker kills.
ENV PATH=/opt/sockd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    XDG_RUNTIME_DIR=/tmp \
    SOCKD_ENV=prod \
    SOCKD_HOST=0.0.0.0 \
    SOCKD_PORT=7001 \
    SOCKD_WORKERS=2 \
    SOCKD_STICKY=true \
    SOCKD_GRACEFUL_TIMEOUT=8
WORKDIR /srv/app
USER 10001
EXPOSE 7001
# Asks the master over its control socket, so a hung master fails the check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sockd", "status", "--json"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["sockd", "start"]
CMD ["/srv/app"]
