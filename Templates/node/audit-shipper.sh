#!/bin/sh
# The node's audit shipper: copies each new file of inference-server's audit checkpoint directory (the signed
# checkpoints and the public key they verify under) to the stack's audit bucket, under node-audit/<instance id>/,
# through the VPC's S3 gateway endpoint with the node's instance profile. Once a checkpoint is off the machine,
# rewriting the audit log on the node is detected (inference-server audit verify ... --checkpoints DIR).
#
# The server only ever adds files there and never rewrites one, so the shipper only ever adds too: each upload is
# conditional (If-None-Match: *, which the node's role requires: it cannot overwrite a shipped file, nor delete one),
# and a file is recorded as shipped (an empty marker in the state directory) only once S3 has answered that it
# holds an object under the file's key. A failed upload is left unmarked and retried by the next run. Run by
# audit-shipper.service on each change of the directory (audit-shipper.path) and every minute (audit-shipper.timer),
# and by audit-shipper-final.service once more after the server has stopped (its last checkpoint).
#
# Inputs, from the environment: NODE_REGION, AUDIT_BUCKET, AUDIT_CHECKPOINTS (the directory), STATE_DIRECTORY
# (systemd's: where the markers go), NODE_INSTANCE_ID (unset on a node: read from the instance metadata).
# DEPLOY_NODE_ROOT, unset on a node, roots every path: the local proof (scripts/node-boot) runs it in a scratch root.
set -eu
root="${DEPLOY_NODE_ROOT:-}"
checkpoints="$root$AUDIT_CHECKPOINTS"
shipped="$root$STATE_DIRECTORY/shipped"

# nothing written yet: nothing to ship (the server creates the directory with its first checkpoint)
[ -d "$checkpoints" ] || exit 0

instance="${NODE_INSTANCE_ID:-}"
if [ -z "$instance" ]; then
    metadata=http://169.254.169.254/latest
    if ! token=$(curl -sf --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$metadata/api/token") ||
       ! instance=$(curl -sf --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$metadata/meta-data/instance-id"); then
        echo "audit-shipper: cannot read the instance id from the instance metadata service; nothing shipped" >&2
        exit 1
    fi
fi
# the id becomes part of every object key: only an EC2 instance id's shape is accepted
case "${instance#i-}" in
    "$instance" | "" | *[!0-9a-f]*)
        echo "audit-shipper: '$instance' is not an instance id; nothing shipped" >&2
        exit 1 ;;
esac

mkdir -p "$shipped"
prefix="node-audit/$instance"
sent=0
failed=0
# the public key first, then the checkpoints in sequence order (the glob sorts their zero-padded numbers)
for path in "$checkpoints/audit-key.pub.pem" "$checkpoints"/checkpoint-*.json; do
    name=${path##*/}
    case "$name" in
        audit-key.pub.pem) type=application/x-pem-file ;;
        checkpoint-*.json)
            # exactly checkpoint-<20 digits>.json: a temporary file of an atomic write or anything else stays
            sequence=${name#checkpoint-}
            sequence=${sequence%.json}
            case "$sequence" in *[!0-9]*) continue ;; esac
            [ "${#sequence}" -eq 20 ] || continue
            type=application/json ;;
        *) continue ;;
    esac
    [ -f "$path" ] && [ ! -L "$path" ] || continue
    [ -e "$shipped/$name" ] && continue
    if error=$(aws s3api put-object --region "$NODE_REGION" --bucket "$AUDIT_BUCKET" --key "$prefix/$name" --body "$path" \
            --content-type "$type" --checksum-algorithm SHA256 --if-none-match '*' 2>&1 >/dev/null); then
        : > "$shipped/$name"
        sent=$((sent + 1))
    elif printf '%s' "$error" | grep -q '(PreconditionFailed)'; then
        # S3 already holds an object under this key: an earlier run uploaded it and stopped before recording it.
        # That first copy stands (nothing can overwrite it); recording it stops the retries.
        : > "$shipped/$name"
    else
        echo "audit-shipper: cannot upload $name to s3://$AUDIT_BUCKET/$prefix/ (the next run retries it): $error" >&2
        failed=$((failed + 1))
    fi
done
if [ "$sent" -gt 0 ]; then
    echo "audit-shipper: shipped $sent file(s) to s3://$AUDIT_BUCKET/$prefix/"
fi
[ "$failed" -eq 0 ]
