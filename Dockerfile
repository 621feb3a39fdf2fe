# The always-on node: `vpshealth service` with its API, for deploy/compose.yaml.
# scripts/build-image prepares build/wheelhouse and builds this without network; a plain
# `docker build .` (or `docker compose build`) on a machine with network installs the same
# pins from PyPI instead.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
# scripts/build-image removes this stage's image afterwards (the classic builder keeps it).
LABEL io.vpshealth.stage=build
# build/wheelhous[e] matches nothing in a fresh checkout: then pip downloads the pins.
COPY deploy/node-requirements.txt build/wheelhous[e] /stage/
COPY pyproject.toml README.md LICENSE /src/
COPY src /src/src
RUN python3 -m venv /opt/vpshealth \
    && if ls /stage/vpshealth-*.whl >/dev/null 2>&1; then \
           offline="--no-index --find-links /stage"; project=$(ls /stage/vpshealth-*.whl); \
       else \
           offline=""; project=/src; \
       fi \
    && /opt/vpshealth/bin/pip install --no-cache-dir --disable-pip-version-check $offline \
           --no-deps --requirement /stage/node-requirements.txt \
    && /opt/vpshealth/bin/pip install --no-cache-dir --disable-pip-version-check $offline \
           --no-deps "$project" \
    && /opt/vpshealth/bin/pip uninstall --yes --quiet pip setuptools \
    && /opt/vpshealth/bin/python -c "import vpshealth.cli.main, vpshealth.app" \
    && /opt/vpshealth/bin/vpshealth --version

FROM ${BASE_IMAGE}
COPY --from=build /opt/vpshealth /opt/vpshealth
COPY deploy/healthcheck.py /opt/vpshealth/healthcheck.py
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin vpshealth \
    && mkdir -m 0700 /data && chown vpshealth:vpshealth /data
ENV PATH=/opt/vpshealth/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VPSHEALTH_HOME=/data \
    VPSHEALTH_SECRET_STORE=file \
    VPSHEALTH_API=127.0.0.1:8765
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "/opt/vpshealth/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["vpshealth"]
CMD ["service"]
