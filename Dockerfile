# syntax=docker/dockerfile:1.7
# One image for every Kansrijk service: `kansrijk serve <service>` (see docker-compose.yml and
# deploy/kubernetes). Multi-stage: the toolchain stays in the build stage; the runtime stage is
# distroless (glibc, CA certificates, no shell), running as a non-root user.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The cache mounts keep the crate registry and the compiled dependencies between builds.
# --no-default-features: a release image has no development issuer (cargo feature dev-issuer):
# neither its committed signing keys nor the `rsa` crate are in the binary (deploy/check/run.sh).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p kansrijk-cli --no-default-features --bin kansrijk \
    && cp target/release/kansrijk /usr/local/bin/kansrijk

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /usr/local/bin/kansrijk /usr/local/bin/kansrijk
USER nonroot:nonroot
ENV KANSRIJK_OPS_ADDR=0.0.0.0:9100
EXPOSE 8080 9100
ENTRYPOINT ["/usr/local/bin/kansrijk"]
CMD ["serve", "gateway"]
