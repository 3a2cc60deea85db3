# syntax=docker/dockerfile:1

# Builder: installs the bot and its dependencies into a self-contained venv.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install .

# Final: the venv and the app, no compilers or pip caches, running as an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/bot.sqlite3
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
ENTRYPOINT ["python", "-m", "bot"]
