FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libdmtx0b curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 serialize
WORKDIR /app

# Dependencies first (pinned in pyproject.toml) so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .
COPY --chown=serialize:serialize . .
# Static files are collected at build time (embedded settings: no secret is needed or baked in) and again
# by bin/serve at start, which is then a no-op.
RUN DEBUG=0 VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var && chown -R serialize:serialize staticfiles
USER serialize
EXPOSE 8000
CMD ["bin/serve"]
