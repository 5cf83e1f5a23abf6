# syntax=docker/dockerfile:1
# Production image: gunicorn serves the web, the same image runs the Celery worker and beat.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The lock's exact versions, each file checked against its hash (a layer that changes only
# with the lock); then the project itself without dependencies, built by the locked setuptools.
COPY requirements.lock ./
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml ./
COPY config ./config
COPY tracker ./tracker
COPY reports ./reports
RUN /venv/bin/pip install --no-deps --no-build-isolation .

FROM python:3.11-slim-bookworm
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_READ_DOT_ENV_FILE=false \
    TRACKER_VAR_DIR=/app/var
# The charts' Korean labels (reports/charts.py): matplotlib needs a font with Hangul.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-nanum \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 tracker
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=tracker:tracker manage.py ./
COPY --chown=tracker:tracker config ./config
COPY --chown=tracker:tracker tracker ./tracker
COPY --chown=tracker:tracker reports ./reports
# The compiled Korean catalogue is committed (django.mo): the image needs no gettext.
COPY --chown=tracker:tracker locale ./locale
# The project's template overrides (the admin's base, with the language switcher).
COPY --chown=tracker:tracker templates ./templates
# collectstatic needs settings but no secret worth keeping: a throwaway key for the build only.
# var/documents exists in the image so that the compose file's volume mounted there is the user's.
RUN mkdir -p var/documents && chown tracker:tracker var \
 && DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://build/build \
    REDIS_URL=redis://build:6379/0 python manage.py collectstatic --noinput \
 && chown -R tracker:tracker var
USER tracker
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
