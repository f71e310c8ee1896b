# The hub's image: one image for every role; the command picks it (deploy/entrypoint.sh):
#   web (default) · worker · migrate · collectstatic · check
# docs/deployment.md says how to run it; compose.yaml runs a whole hub.
ARG PYTHON_VERSION=3.13

FROM python:${PYTHON_VERSION}-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    GUNICORN_BIND=0.0.0.0:8000 \
    METRICS_HOST=0.0.0.0

# The runtime dependencies exactly as locked, each checked against its hash; no test tools.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --no-deps --require-hashes -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

RUN groupadd --system hub \
    && useradd --system --gid hub --home-dir /app --no-create-home --shell /usr/sbin/nologin hub

WORKDIR /app
COPY . .

# Static files are gathered into the image (WhiteNoise serves them). Production settings
# refuse to load without their secrets: placeholders serve this one command and are not
# kept in the image; a container gets the real ones from its environment. The code stays
# root's, read-only to the hub; var/ is the one folder it writes (a one-container SQLite
# database, the ORM broker's cluster status).
RUN DJANGO_SECRET_KEY=collectstatic-only \
    HUB_ENCRYPTION_KEY=collectstatic-only \
    PM_CLIENT_ID=collectstatic-only \
    PM_CLIENT_SECRET=collectstatic-only \
    LA_API_TOKEN=collectstatic-only \
    LA_WEBHOOK_SECRET=collectstatic-only \
    deploy/entrypoint.sh collectstatic \
    && python -m compileall -q config contacts matters timekeeping sync ops \
    && mkdir -p var && chown hub:hub var

USER hub:hub
EXPOSE 8000
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["web"]
