# syntax=docker/dockerfile:1
# Tandem Lab CPU worker: the `tandem` Python package (workers/trainer) on CPU PyTorch.
#   docker build -f infra/docker/worker.Dockerfile -t tandem-lab/worker .   (context: repository root)
# Default command: `tandem worker` (serves the job queue in Postgres; needs DATABASE_URL).
# Other commands: `docker run ... tandem-lab/worker tandem seed`, `tandem build-base`, `tandem train ...`.

FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
# CPU-only wheels: an unpinned torch from PyPI pulls gigabytes of CUDA libraries.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/tandem \
    TANDEM_RUNS_DIR=/data/runs \
    TANDEM_CACHE=/data/cache \
    TANDEM_ALIVE_FILE=/tmp/tandem-worker.alive \
    HF_HUB_OFFLINE=1

# tini as PID 1: Python as PID 1 ignores SIGTERM; tini passes it on so the worker stops promptly
# (its job's lease then goes stale and another worker resumes it from the last checkpoint).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 tandem \
 && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/tandem --shell /usr/sbin/nologin tandem \
 && mkdir -p /data/runs /data/cache \
 && chown -R 1000:1000 /data

RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

WORKDIR /opt/tandem
# Dependencies first (cached while only sources change), torch held at the installed build by a
# constraint so no dependency can swap it; then the package itself without touching dependencies.
COPY workers/trainer/pyproject.toml ./
RUN python -c "import torch; print(f'torch=={torch.__version__}')" > /etc/tandem-torch-constraint.txt \
 && mkdir -p src/tandem && touch src/tandem/__init__.py \
 && pip install --constraint /etc/tandem-torch-constraint.txt . \
 && pip uninstall -y tandem-trainer \
 && rm -rf src build
COPY workers/trainer/ ./
RUN pip install --no-deps . \
 && rm -rf build \
 && python -c "import torch, tandem.cli; print('torch', torch.__version__)"
COPY infra/docker/worker-healthcheck.py /usr/local/lib/tandem/worker-healthcheck.py

USER 1000:1000
WORKDIR /data
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["python", "/usr/local/lib/tandem/worker-healthcheck.py"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["tandem", "worker"]
