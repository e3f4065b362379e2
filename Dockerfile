FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=bsp.settings.production BSP_VAR_DIR=/var/lib/civic-relay
WORKDIR /app
# DejaVu Sans: the fonts embedded in PDF/A export transcripts (records.exports).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 1000 --home /app civic && mkdir -p /var/lib/civic-relay \
    && chown civic /var/lib/civic-relay
COPY pyproject.toml README.md ./
COPY bsp bsp
COPY tenants tenants
COPY messaging messaging
COPY templates_mgr templates_mgr
COPY inbox inbox
COPY records records
COPY frontend frontend
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && SECRET_KEY=collectstatic-only-0123456789abcdefghijklmnop \
       FIELD_ENCRYPTION_KEY=Y29sbGVjdHN0YXRpYy1vbmx5LWtleS0wMTIzNDU2Nzg= \
       WHATSAPP_APP_SECRET=collectstatic-only \
       python manage.py collectstatic --noinput -v0
USER civic
EXPOSE 8000
CMD ["gunicorn", "bsp.asgi", "--worker-class", "bsp.gunicorn.AsgiWorker", "--bind", "0.0.0.0:8000", "--workers", "3", "--logger-class", "bsp.gunicorn.RedactingLogger"]
