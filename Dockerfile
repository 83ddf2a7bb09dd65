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
RUN DATABASE_URL=sqlite:////tmp/build.sqlite3 SECRET_KEY=build-only MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput
USER serialize
EXPOSE 8000
# Access log without client addresses (the scan log keeps only salted hashes) and without query strings.
CMD ["gunicorn", "serialize_saas.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-", "--access-logformat", "%(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)s"]
