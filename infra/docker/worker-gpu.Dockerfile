# syntax=docker/dockerfile:1
# Tandem Lab GPU worker: the `tandem` Python package on the CUDA PyTorch that the base image ships.
#   docker build -f infra/docker/worker-gpu.Dockerfile -t tandem-lab/worker-gpu .   (context: repo root)
#   docker build --build-arg BASE_IMAGE=pytorch/pytorch:<version>-cuda<x.y>-cudnn9-runtime ...
# Pick a base whose CUDA runs on your hosts' driver. The dependencies need torch >= 2.6; CI tests the
# trainer on torch 2.13.0 (CPU). The image's torch is kept as is: pip may not replace it (constraint below).
# Runtime needs the NVIDIA Container Toolkit on the host (compose: deploy.resources.reservations.devices;
# Kubernetes: the NVIDIA device plugin and a `nvidia.com/gpu` limit).

ARG BASE_IMAGE=pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime
FROM ${BASE_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/tandem \
    TANDEM_RUNS_DIR=/data/runs \
    TANDEM_CACHE=/data/cache \
    TANDEM_ALIVE_FILE=/tmp/tandem-worker.alive \
    HF_HUB_OFFLINE=1 \
    TANDEM_REQUIRE_CUDA=1

# tini as PID 1 (see worker.Dockerfile). uid 1000, as in the CPU image, so both can share one volume;
# some Ubuntu bases already have a uid-1000 user, which is then reused.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && if ! getent passwd 1000 >/dev/null; then \
      (getent group 1000 >/dev/null || groupadd --gid 1000 tandem) \
      && useradd --uid 1000 --gid 1000 --no-create-home --shell /usr/sbin/nologin tandem; \
    fi \
 && mkdir -p /home/tandem /data/runs /data/cache \
 && chown -R 1000:1000 /home/tandem /data

WORKDIR /opt/tandem
# Same two steps as the CPU image, with the base image's torch build as the constraint: if a dependency
# needed another torch, the build fails here instead of silently downloading one.
COPY workers/trainer/pyproject.toml ./
RUN python -c "import torch; print(f'torch=={torch.__version__}')" > /etc/tandem-torch-constraint.txt \
 && cat /etc/tandem-torch-constraint.txt \
 && mkdir -p src/tandem && touch src/tandem/__init__.py \
 && pip install --constraint /etc/tandem-torch-constraint.txt . \
 && pip uninstall -y tandem-trainer \
 && rm -rf src build
COPY workers/trainer/ ./
RUN pip install --no-deps . \
 && rm -rf build \
 && python -c "import torch, tandem.cli; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
COPY infra/docker/worker-healthcheck.py /usr/local/lib/tandem/worker-healthcheck.py

USER 1000:1000
WORKDIR /data
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
  CMD ["python", "/usr/local/lib/tandem/worker-healthcheck.py"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["tandem", "worker"]
