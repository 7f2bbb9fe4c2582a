# AINVR image. CPU by default; a GPU image: docker build --build-arg REQUIREMENTS=requirements/gpu.txt .
FROM python:3.11-slim

ARG REQUIREMENTS=requirements/cpu.txt
# Debian packages some later requirement may need at run time (space separated).
ARG OS_PACKAGES=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/ainvr/venv \
    PATH=/opt/ainvr/venv/bin:$PATH \
    DATA_DIR=/data \
    MODELS_DIR=/models

# hadolint ignore=DL3008
RUN if [ -n "$OS_PACKAGES" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends $OS_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --gid 1000 ainvr \
    && useradd --uid 1000 --gid 1000 --create-home --shell /usr/sbin/nologin ainvr \
    && mkdir -p /data /models \
    && chown ainvr:ainvr /data /models

WORKDIR /app

# Requirements first, so code changes do not reinstall them.
COPY requirements/ requirements/
# The requirements are pinned; pip itself is upgraded to the newest, as scripts/lib.sh does.
# hadolint ignore=DL3013
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --upgrade pip \
    && pip install -r "$REQUIREMENTS" \
    && pip install --no-deps -r requirements/nodeps.txt

COPY . .

USER 1000:1000
# Static files into /data/static (STATIC_ROOT); a new ainvr-data volume starts with them.
# The key is a throwaway used by this step only; the running container gets SECRET_KEY from its env.
RUN DEBUG=true SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput

VOLUME ["/data", "/models"]
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "ainvr.asgi:application"]
