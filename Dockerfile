# syntax=docker/dockerfile:1

# Builder: installs the locked dependencies, then the bot, into a self-contained venv.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The dependencies get their own layer, built from the lock files alone: editing the code does not
# invalidate it, only regenerating requirements/ does (see the README's "Docker" section).
COPY requirements/runtime.txt requirements/constraints.txt ./requirements/
RUN pip install -r requirements/runtime.txt -c requirements/constraints.txt
# The bot itself, without touching the dependencies; `pip check` fails the build when the lock no
# longer satisfies pyproject.toml (a dependency added without regenerating requirements/).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps . && pip check

# Final: the venv and the app, no compilers or pip caches, running as an unprivileged user.
FROM python:3.11-slim
# tini runs as PID 1: it forwards SIGTERM to the bot and reaps zombie processes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/bot.sqlite3 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
# A fixed uid keeps the named volume's ownership stable across rebuilds.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir /data \
    && chown bot:bot /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The source stays root-owned and read-only for the bot; `python -m bot` runs it from here, which
# also keeps non-Python files under bot/ (such as SQL migrations) next to the code.
COPY bot ./bot
COPY cogs ./cogs
USER bot
VOLUME /data
# The bot's built-in HTTP server (HTTP_PORT), which answers GET /healthz.
EXPOSE 8080
# Unhealthy when /healthz answers anything but 200 (urlopen raises on 4xx/5xx) or does not answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('HTTP_PORT') or '8080'; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
# `docker stop` sends SIGTERM; the bot shuts down cleanly and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "python", "-m", "bot"]
