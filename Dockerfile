# s3-prune's dashboard for a team, as a container: the static binary alone (browser files are
# built into it), CA certificates for TLS to S3, a non-root user, no shell, no package manager.
#
#   make image        # make dist, then builds this with podman (or docker) from target/container
#   podman run --rm -p 3000:3000 -v "$PWD/s3-prune.toml:/data/s3-prune.toml:ro" \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     s3-prune serve --addr 0.0.0.0:3000 --allowed-host localhost:3000 --bucket my-site-bucket
#
# /data is the working directory (an s3-prune.toml there is read) and holds the audit log:
# mount a volume on it to keep the history across restarts.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 data /data
COPY s3-prune /usr/local/bin/s3-prune
USER 65532:65532
WORKDIR /data
ENV HOME=/data S3_PRUNE_AUDIT_DB=/data/audit.sqlite
VOLUME /data
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/s3-prune"]
CMD ["--help"]
