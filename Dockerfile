# syntax=docker/dockerfile:1
# Multi-stage build of the `footfall` binary; the runtime image holds only the
# binary, CA certificates and curl for the health check.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p footfall-api --bin footfall \
    && cp target/release/footfall /usr/local/bin/footfall

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data footfall \
    && mkdir -p /data && chown footfall:footfall /data
COPY --from=build /usr/local/bin/footfall /usr/local/bin/footfall
USER footfall
ENV FOOTFALL_DATA_DIR=/data \
    FOOTFALL_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["footfall"]
CMD ["serve"]
