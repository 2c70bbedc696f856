# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 overblik

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY kle ./kle
COPY indexes ./indexes
COPY borgerblikket ./borgerblikket
COPY overblik ./overblik
# Not simulators/: the stand-ins for other organisations never ship
# (tests/test_production_without_stand_ins.py starts this copy on production settings).
COPY templates ./templates
COPY manage.py ./
# collectstatic loads the production settings, which refuse weak keys: throw-away ones.
RUN pip install . \
 && DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    OVERBLIK_CPR_HMAC_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build CELERY_BROKER_URL=redis://localhost \
    python manage.py collectstatic --no-input

USER overblik
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "python:config.gunicorn"]
