# shop: one image for every role (api, consumer, relay); the command picks the role.
# The versions are those of constraints.txt; no extra: the image always talks to a real Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml setup.cfg constraints.txt README.md LICENSE ./
COPY src ./src
# var/ is where the roles keep their heartbeats (read by `shop health`, the health checks).
RUN pip install -c constraints.txt . \
    && rm -rf build src/*.egg-info \
    && useradd --create-home --uid 10001 shop \
    && mkdir -p /app/var \
    && chown shop /app/var
USER shop

EXPOSE 8000
CMD ["shop", "api", "--host", "0.0.0.0", "--port", "8000"]
