# Heimdall Live: one image, one process, every mode of main.py.
#   docker build -t heimdall-live .
#   docker run -p 8000:8000 -v heimdall-data:/data heimdall-live
#   docker run -p 8000:8000 heimdall-live --demo
#   docker run --rm -it heimdall-live watch http://gateway:8000
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEIMDALL_HOST=0.0.0.0 \
    HEIMDALL_PORT=8000 \
    HEIMDALL_DATA_DIR=/data

WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY main.py ./
COPY backend ./backend
COPY ui ./ui
COPY client ./client
COPY demo ./demo

RUN groupadd --system --gid 10001 heimdall \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin heimdall \
    && mkdir -p /data \
    && chown 10001:10001 /data

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEIMDALL_PORT', '8000'), timeout=4)"]

# Arguments after the image name go to main.py: `--demo`, `watch URL`, `--config FILE`.
ENTRYPOINT ["python", "main.py"]
