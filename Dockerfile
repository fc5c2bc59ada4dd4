# Wherry's container image: a static-stdlib release build of `wherry` on a slim Debian with what it runs at
# runtime (git, CA certificates, OpenSSH for ssh:// remotes and SSH commit signatures, gnupg for OpenPGP signatures,
# SQLite, kubectl for kustomize and the kubectl applier, sops for encrypted Secrets).
#
#   docker build -t ghcr.io/wherry-dev/wherry:0.1.0 .
#   wherry install --cluster-name prod --config-file gitops-config.yaml --image ghcr.io/wherry-dev/wherry:0.1.0 --dry-run
#
# The build steps are the ones `.ci/run` and the README use on a Debian 12 machine with Swift 6.3.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
# The order the link lays out code in (Package.swift): the functions a running controller executes first.
COPY Linker ./Linker
# The Swift runtime linked in (no libswift*.so in the image); symbols stripped.
# The dashboard's templates, script and style are the bundle beside the binary (Wherry_WherryHTTP.resources).
RUN swift build -c release --product wherry --static-swift-stdlib -Xlinker -s \
    && install -m 0755 .build/release/wherry /usr/local/bin/wherry \
    && cp -R .build/release/Wherry_WherryHTTP.resources /usr/local/bin/

FROM ${RUNTIME_IMAGE} AS kubectl
ARG KUBECTL_VERSION=v1.36.2
ARG TARGETARCH=amd64
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && curl -fsSLo /kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
    && curl -fsSLo /kubectl.sha256 "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256" \
    && echo "$(cat /kubectl.sha256)  /kubectl" | sha256sum -c - \
    && chmod 0755 /kubectl

# sops decrypts SOPS-encrypted manifests; the release binary, checked against the release's published checksums.
FROM ${RUNTIME_IMAGE} AS sops
ARG SOPS_VERSION=v3.11.0
ARG TARGETARCH=amd64
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && base="https://github.com/getsops/sops/releases/download/${SOPS_VERSION}" \
    && file="sops-${SOPS_VERSION}.linux.${TARGETARCH}" \
    && curl -fsSLo "/${file}" "${base}/${file}" \
    && curl -fsSLo /checksums.txt "${base}/sops-${SOPS_VERSION}.checksums.txt" \
    && cd / && grep " ${file}\$" /checksums.txt | sha256sum -c - \
    && install -m 0755 "/${file}" /sops

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates openssh-client gnupg libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/wherry /usr/local/bin/wherry
COPY --from=build /usr/local/bin/Wherry_WherryHTTP.resources /usr/local/bin/Wherry_WherryHTTP.resources
COPY --from=kubectl /kubectl /usr/local/bin/kubectl
COPY --from=sops /sops /usr/local/bin/sops
# Non-root, as `wherry install` runs it (read-only root file system; HOME and state on volumes).
USER 65532:65532
ENV HOME=/tmp
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wherry"]
CMD ["run", "--listen", "0.0.0.0:8080"]
