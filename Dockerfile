# schemabot: `schemabot serve` in a slim image, as a non-root user, state on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCHEMABOT_WORKDIR=/data

RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* postgresql-client=15* \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 schemabot \
    && mkdir /data \
    && chown schemabot:schemabot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install .

USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000

# /healthz answers on port 3000 in both modes; in Socket Mode that port serves nothing else,
# and the check fails while the connection to Slack is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["schemabot", "serve", "--port", "3000"]
