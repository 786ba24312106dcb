#!/bin/sh
# The inference node's installer, run once by its user data as root. It fetches the server, the model, the API keys
# file, the systemd unit and the audit shipper (its script and units) from the artifacts bucket (through the VPC's S3
# gateway endpoint, with the node's instance profile), checks each against the SHA-256 deploy computed when it
# planned the upload, and only when all match installs them and starts the service under a dedicated unprivileged
# user, and the shipper that copies the server's signed audit checkpoints to the audit bucket. A mismatch names the
# file and leaves nothing installed.
#
# Inputs, from the user data's environment: NODE_REGION, NODE_BUCKET, NODE_PORT, NODE_AUDIT_BUCKET, and for SERVER,
# MODEL, KEYS, POLICY (the guardrail policy), UNIT, SHIPPER, SHIPPER_UNIT, SHIPPER_PATH, SHIPPER_TIMER and SHIPPER_FINAL the object key (*_KEY) and
# digest (*_SHA256). A fleet's node also has NODE_TLS=1 (it serves TLS to the load balancer, with a key it makes
# here and that never leaves it: a Network Load Balancer does not check its targets' certificates),
# NODE_DRAIN_SECONDS (how long a stopping server finishes its streams), and NODE_GROUP, METRICS_NAMESPACE and
# METRICS*_KEY/_SHA256 for the metrics publisher that reports its load to the group's scaling policy.
# DEPLOY_NODE_ROOT, unset on a node, roots every path: the local proof (scripts/node-boot) runs this script in a
# scratch directory.
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
fetch "$POLICY_KEY" "$POLICY_SHA256" guardrails.json5
fetch "$UNIT_KEY" "$UNIT_SHA256" inference-server.service
fetch "$SHIPPER_KEY" "$SHIPPER_SHA256" audit-shipper
fetch "$SHIPPER_UNIT_KEY" "$SHIPPER_UNIT_SHA256" audit-shipper.service
fetch "$SHIPPER_PATH_KEY" "$SHIPPER_PATH_SHA256" audit-shipper.path
fetch "$SHIPPER_TIMER_KEY" "$SHIPPER_TIMER_SHA256" audit-shipper.timer
fetch "$SHIPPER_FINAL_KEY" "$SHIPPER_FINAL_SHA256" audit-shipper-final.service
if [ -n "${NODE_GROUP:-}" ]; then
    fetch "$METRICS_KEY" "$METRICS_SHA256" metrics-publisher
    fetch "$METRICS_UNIT_KEY" "$METRICS_UNIT_SHA256" metrics-publisher.service
    fetch "$METRICS_TIMER_KEY" "$METRICS_TIMER_SHA256" metrics-publisher.timer
    # the publisher's own API key (/metrics wants one): added to the checked keys file before it is installed,
    # kept where only root reads it (systemd hands it to the publisher as a credential)
    chmod 0700 "$staging/inference-server"
    if ! "$staging/inference-server" keys add metrics-publisher --keys "$staging/keys.json" > "$staging/metrics-publisher.key"; then
        echo "boot: cannot add the metrics publisher's API key" >&2
        exit 1
    fi
fi

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
install_file guardrails.json5 /etc/inference/guardrails.json5 0640 inference
install_file inference-server.service /etc/systemd/system/inference-server.service 0644
install_file audit-shipper /usr/local/bin/audit-shipper 0755
for unit in audit-shipper.service audit-shipper.path audit-shipper.timer audit-shipper-final.service; do
    install_file "$unit" "/etc/systemd/system/$unit" 0644
done
chmod 0755 "$root/var/lib/inference" "$root/etc/inference"
scheme=http
fleet_arguments=""
if [ "${NODE_TLS:-0}" = 1 ]; then
    # this node's own key and certificate, made here, readable by the service's group only
    tls="$root/var/lib/inference-tls"
    mkdir -p "$tls"
    if [ ! -s "$tls/node.key" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=inference-node" \
            -keyout "$tls/node.key" -out "$tls/node.pem" 2>/dev/null
    fi
    chown root:inference "$tls/node.key" "$tls/node.pem"
    chmod 0640 "$tls/node.key" "$tls/node.pem"
    chmod 0755 "$tls"
    # behind the load balancer every connection comes from its few addresses: the per-address bound would cap the
    # node, so it is the whole bound (the server's default of 64)
    fleet_arguments="--tls-cert /var/lib/inference-tls/node.pem --tls-key /var/lib/inference-tls/node.key --max-connections-per-client 64"
    scheme=https
fi
printf 'PORT=%s\nDRAIN_SECONDS=%s\nFLEET_ARGUMENTS=%s\n' "$NODE_PORT" "${NODE_DRAIN_SECONDS:-30}" "$fleet_arguments" \
    > "$root/etc/inference/server.env"
# where the shipper finds the checkpoints (the server unit's --audit-checkpoints) and where it sends them
printf 'NODE_REGION=%s\nAUDIT_BUCKET=%s\nAUDIT_CHECKPOINTS=/var/log/inference/checkpoints\n' "$NODE_REGION" "$NODE_AUDIT_BUCKET" \
    > "$root/etc/inference/audit-shipper.env"
chmod 0644 "$root/etc/inference/server.env" "$root/etc/inference/audit-shipper.env"
units=""
if [ -n "${NODE_GROUP:-}" ]; then
    install_file metrics-publisher /usr/local/bin/metrics-publisher 0755
    install_file metrics-publisher.key /etc/inference/metrics-publisher.key 0600
    install_file metrics-publisher.service /etc/systemd/system/metrics-publisher.service 0644
    install_file metrics-publisher.timer /etc/systemd/system/metrics-publisher.timer 0644
    printf 'NODE_REGION=%s\nMETRICS_NAMESPACE=%s\nASG_NAME=%s\nNODE_METRICS_URL=%s://127.0.0.1:%s/metrics\n' \
        "$NODE_REGION" "$METRICS_NAMESPACE" "$NODE_GROUP" "$scheme" "$NODE_PORT" > "$root/etc/inference/metrics-publisher.env"
    chmod 0644 "$root/etc/inference/metrics-publisher.env"
    units="metrics-publisher.timer"
fi
rm -rf "$staging"

systemctl daemon-reload
# the final shipper first: ordered before the server, it is stopped after it and ships the last checkpoint
# shellcheck disable=SC2086
systemctl enable --now audit-shipper-final.service audit-shipper.path audit-shipper.timer inference-server.service $units
echo "boot: inference-server installed and started on port $NODE_PORT"
