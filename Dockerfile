# shop: one image for every role (api, consumer, relay); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --create-home --uid 10001 shop
USER shop

EXPOSE 8000
CMD ["shop", "api", "--host", "0.0.0.0", "--port", "8000"]
