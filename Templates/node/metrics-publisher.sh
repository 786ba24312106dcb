#!/bin/sh
# The node's metrics publisher: reads inference-server's own Prometheus metrics on the node and publishes the figures
# the fleet's target-tracking policy follows to CloudWatch (PutMetricData, signed by the AWS CLI with the node's
# instance profile, through the VPC's interface endpoint for monitoring, whose private DNS takes the regional name):
#   QueueDepth                 inference_queue_depth                                    Count
#   ActiveSequences            inference_active_sequences                               Count
#   SlotUtilization            active sequences of inference_parallel_slots, in %       Percent
#   GeneratedTokensPerSecond   inference_generated_tokens_total's rate since last run   Count/Second
# each with the one dimension AutoScalingGroupName, the group's name, so that the policy's customized metric
# aggregates every node of the group. Run every minute by metrics-publisher.service (metrics-publisher.timer).
#
# The rate needs the previous reading: the state directory keeps the counter and the time it was read. The first
# run has none and publishes no rate; a counter lower than the last reading (the server restarted) starts the rate
# again from the new reading, never a negative one.
#
# A scrape that fails publishes nothing and exits 1 with one line on stderr. Publishing zeros instead would tell the
# policy, which averages the group's nodes, that this node is idle when nothing is known of it (loading, stopped,
# refusing): it would scale in just when a node cannot serve. A missing data point is left out of the average.
#
# /metrics takes an API key as every route but /health does: the publisher presents its own (identity
# metrics-publisher), which systemd hands it as the credential metrics-key; the key reaches curl on its standard
# input, never in an argument (which any process may read), and is never printed.
#
# Inputs, from the environment: NODE_REGION, METRICS_NAMESPACE, ASG_NAME, PORT (the server's, from server.env: the
# URL is http://127.0.0.1:$PORT/metrics), NODE_METRICS_URL (when set, the whole URL instead, e.g.
# https://127.0.0.1:8443/metrics once the server serves TLS; only for https://127.0.0.1 is the certificate not
# checked: it names the service, not the loopback address),
# STATE_DIRECTORY (systemd's: the last reading), CREDENTIALS_DIRECTORY (systemd's: where metrics-key is; unset: no
# key is sent, for a server run with --no-auth). AWS_ENDPOINT_URL, when set, is honoured by the AWS CLI itself.
# DEPLOY_NODE_ROOT, unset on a node, roots every path: the local proof runs it in a scratch root.
set -eu
root="${DEPLOY_NODE_ROOT:-}"

fail() {
    echo "metrics-publisher: $*; nothing published" >&2
    exit 1
}

for name in NODE_REGION METRICS_NAMESPACE ASG_NAME STATE_DIRECTORY; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || fail "$name is not set"
done
# both go into the request's JSON as they are: only the characters of the names deploy gives them
case "$ASG_NAME$METRICS_NAMESPACE" in
    *[!A-Za-z0-9._/:@+=-]*) fail "the group name '$ASG_NAME' or namespace '$METRICS_NAMESPACE' has a character outside letters, digits and ._/:@+=-" ;;
esac
if [ -n "${NODE_METRICS_URL:-}" ]; then
    url=$NODE_METRICS_URL
elif [ -n "${PORT:-}" ]; then
    url="http://127.0.0.1:$PORT/metrics"
else
    fail "neither PORT nor NODE_METRICS_URL is set"
fi

insecure=
case "$url" in
    https://*)
        authority=${url#https://}
        authority=${authority%%/*}
        # exactly 127.0.0.1 or 127.0.0.1:<digits>: no user part or other host rides on the exception
        case "$authority" in
            127.0.0.1) insecure=-k ;;
            127.0.0.1:*) case "${authority#127.0.0.1:}" in "" | *[!0-9]*) ;; *) insecure=-k ;; esac ;;
        esac ;;
    http://*) ;;
    *) fail "NODE_METRICS_URL '$url' is not an http or https URL" ;;
esac

key=
if [ -n "${CREDENTIALS_DIRECTORY:-}" ]; then
    key_file="$root$CREDENTIALS_DIRECTORY/metrics-key"
    [ -r "$key_file" ] || fail "cannot read the API key credential $CREDENTIALS_DIRECTORY/metrics-key"
    key=$(cat "$key_file")
    # it becomes a line of curl's configuration: a key's characters only (the key itself is never shown)
    case "$key" in
        "" | *[!A-Za-z0-9_-]*) fail "the API key credential $CREDENTIALS_DIRECTORY/metrics-key is not an API key" ;;
    esac
fi

state_dir="$root$STATE_DIRECTORY"
mkdir -p "$state_dir"
scrape="$state_dir/metrics.prom"
rm -f "$scrape"

# one reading of the clock for the rate and the data points' time
read -r now timestamp <<EOF
$(date -u '+%s %Y-%m-%dT%H:%M:%SZ')
EOF
if [ -n "$key" ]; then header="header = \"Authorization: Bearer $key\""; else header=; fi
if ! error=$(printf '%s\n' "$header" | curl -sS --fail --max-time 10 --proto =http,https $insecure -K - -o "$scrape" "$url" 2>&1); then
    rm -f "$scrape"
    # curl's first line says what went wrong; the rest is advice
    fail "cannot read $url: $(printf '%s\n' "$error" | head -n 1)"
fi

# the four unlabelled samples; "-" where the family is missing
read -r queue active parallel generated <<EOF
$(awk '
    $1 == "inference_queue_depth" { queue = $2 }
    $1 == "inference_active_sequences" { active = $2 }
    $1 == "inference_parallel_slots" { parallel = $2 }
    $1 == "inference_generated_tokens_total" { generated = $2 }
    END {
        printf "%s %s %s %s\n", queue == "" ? "-" : queue, active == "" ? "-" : active,
            parallel == "" ? "-" : parallel, generated == "" ? "-" : generated
    }' "$scrape")
EOF
rm -f "$scrape"
for pair in "inference_queue_depth=$queue" "inference_active_sequences=$active" "inference_parallel_slots=$parallel" \
        "inference_generated_tokens_total=$generated"; do
    case "${pair#*=}" in
        -) fail "$url has no ${pair%%=*}" ;;
        "" | *[!0-9]*) fail "$url gives ${pair%%=*} as '${pair#*=}', not a count" ;;
    esac
done
[ "$parallel" -gt 0 ] || fail "$url gives inference_parallel_slots as 0"
utilization=$(awk -v a="$active" -v p="$parallel" 'BEGIN { printf "%.2f", 100 * a / p }')

# the rate since the last reading, if there is one to go from
rate=
reading="$state_dir/generated-tokens"
if [ -f "$reading" ] && read -r last_time last_count < "$reading"; then
    case "$last_time$last_count" in
        *[!0-9]*) echo "metrics-publisher: ignoring an unreadable last reading in $STATE_DIRECTORY/generated-tokens" >&2 ;;
        *)
            if [ "$generated" -ge "$last_count" ] && [ "$now" -gt "$last_time" ]; then
                rate=$(awk -v d="$((generated - last_count))" -v t="$((now - last_time))" 'BEGIN { printf "%.3f", d / t }')
            fi ;;
    esac
fi
# kept whether or not this run's publish succeeds: each rate covers the interval just before it
printf '%s %s\n' "$now" "$generated" > "$reading.tmp"
mv -f "$reading.tmp" "$reading"

datum() {
    printf '{"MetricName":"%s","Dimensions":[{"Name":"AutoScalingGroupName","Value":"%s"}],"Timestamp":"%s","Value":%s,"Unit":"%s"}' \
        "$1" "$ASG_NAME" "$timestamp" "$2" "$3"
}
data="[$(datum QueueDepth "$queue" Count),$(datum ActiveSequences "$active" Count),$(datum SlotUtilization "$utilization" Percent)"
summary="QueueDepth=$queue ActiveSequences=$active SlotUtilization=$utilization%"
if [ -n "$rate" ]; then
    data="$data,$(datum GeneratedTokensPerSecond "$rate" Count/Second)"
    summary="$summary GeneratedTokensPerSecond=$rate"
fi
data="$data]"

# one call: the figures of a reading are published together or not at all
if ! error=$(aws cloudwatch put-metric-data --region "$NODE_REGION" --namespace "$METRICS_NAMESPACE" --metric-data "$data" \
        --cli-connect-timeout 5 --cli-read-timeout 15 2>&1 >/dev/null); then
    fail "cannot publish to CloudWatch ($METRICS_NAMESPACE in $NODE_REGION): $(printf '%s' "$error" | tr -s '\n' ' ' | sed 's/^ //')"
fi
echo "metrics-publisher: published $summary to $METRICS_NAMESPACE (AutoScalingGroupName=$ASG_NAME)"
