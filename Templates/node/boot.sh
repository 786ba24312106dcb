#!/bin/sh
# The inference node's installer, run once by its user data as root. It fetches the server, the model, the API keys
# file and the systemd unit from the artifacts bucket (through the VPC's S3 gateway endpoint, with the node's
# instance profile), checks each against the SHA-256 deploy computed when it planned the upload, and only when all
# four match installs them and starts the service under a dedicated unprivileged user. A mismatch names the file and
# leaves nothing installed.
#
# Inputs, from the user data's environment: NODE_REGION, NODE_BUCKET, NODE_PORT, and for SERVER, MODEL, KEYS and
# UNIT the object key (*_KEY) and digest (*_SHA256). DEPLOY_NODE_ROOT, unset on a node, roots every path: the local
# proof (scripts/node-boot) runs this script in a scratch directory.
set -eu
root="${DEPLOY_NODE_ROOT:-}"
staging="$root/var/lib/inference-staging"

umask 077
rm -rf "$staging"
mkdir -p "$staging"

# fetch KEY SHA256 NAME: downloads one object into the staging directory and checks its digest
fetch() {
    if ! aws s3 cp --only-show-errors --region "$NODE_REGION" "s3://$NODE_BUCKET/$1" "$staging/$3"; then
        echo "boot: cannot fetch s3://$NODE_BUCKET/$1 ($3)" >&2
        exit 1
    fi
    actual=$(sha256sum "$staging/$3" | cut -c1-64)
    if [ "$actual" != "$2" ]; then
        echo "boot: refusing to start: $3 (s3://$NODE_BUCKET/$1) has SHA-256 $actual, not the planned $2" >&2
        rm -rf "$staging"
        exit 1
    fi
}

fetch "$SERVER_KEY" "$SERVER_SHA256" inference-server
fetch "$MODEL_KEY" "$MODEL_SHA256" model.gguf
fetch "$KEYS_KEY" "$KEYS_SHA256" keys.json
fetch "$UNIT_KEY" "$UNIT_SHA256" inference-server.service

if ! id inference >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin inference
fi

# install SOURCE TARGET MODE [GROUP]: root owns every file; the service's group may read what it must
install_file() {
    mkdir -p "$(dirname "$root$2")"
    chmod "$3" "$staging/$1"
    if [ -n "${4:-}" ]; then chown "root:$4" "$staging/$1"; fi
    mv -f "$staging/$1" "$root$2"
}

install_file inference-server /usr/local/bin/inference-server 0755
install_file model.gguf /var/lib/inference/model.gguf 0640 inference
install_file keys.json /etc/inference/keys.json 0640 inference
install_file inference-server.service /etc/systemd/system/inference-server.service 0644
chmod 0755 "$root/var/lib/inference" "$root/etc/inference"
printf 'PORT=%s\n' "$NODE_PORT" > "$root/etc/inference/server.env"
chmod 0644 "$root/etc/inference/server.env"
rm -rf "$staging"

systemctl daemon-reload
systemctl enable --now inference-server.service
echo "boot: inference-server installed and started on port $NODE_PORT"
