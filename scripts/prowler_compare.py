#!/usr/bin/env python3
"""deploy check --live and Prowler, side by side, on the default stack applied to the local endpoint.

Starts a fresh local endpoint (scripts/local-aws), applies Stacks/private-inference.json5 as a user holding exactly the
policy `deploy permissions` prints, runs `deploy check --live` and then Prowler (PyPI `prowler`, in a virtual
environment of its own: its pins conflict with moto's) on the checks our rules map to, with AWS_ENDPOINT_URL pointing
it at the same endpoint. For each of those Prowler checks it prints how both judged each resource of the stack and
whether they agree, and the time each tool took. Then it breaks the stack outside deploy as the issue's live test does
(a public ACL, rotation off, SSH open to the internet, IMDSv1 allowed, the trail stopped) and compares again. Prowler
runs with --scan-unused-services: the local endpoint makes no network interfaces for interface endpoints, so their
security group would count as unused and go unjudged. The README explains every disagreement.

    python3 scripts/prowler_compare.py [--keep DIR]

A script, not a test: it needs Prowler (installed here on first use, about 2 minutes) and a few minutes to run.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROWLER_VERSION = "5.46.0"
VENV = os.environ.get("DEPLOY_PROWLER_VENV", os.path.expanduser("~/.cache/deploy/prowler-venv"))
STACK = os.path.join(ROOT, "Stacks", "private-inference.json5")
# account-wide checks: Prowler names the account (or the region's EBS setting), we name the stack's resource for it
ACCOUNT_CHECKS = {"s3_account_level_public_access_blocks": "storage.account_public_access_block",
                  "ec2_ebs_default_encryption": "keys.ebs_encryption_by_default"}
ACCOUNT_SETTINGS = set(ACCOUNT_CHECKS.values())
# checks whose subject differs: Prowler judges the trail for its bucket's access logging, we judge the bucket
SUBJECTS = {"cloudtrail_logs_s3_bucket_access_logging_enabled": {"storage.trail": "storage.audit_bucket"}}


def run(command, env=None, **options):
    return subprocess.run(command, env=env, cwd=ROOT, check=True, text=True, **options)


def ensure_prowler() -> str:
    prowler = os.path.join(VENV, "bin", "prowler")
    if not os.path.exists(prowler):
        print(f"installing prowler {PROWLER_VERSION} into {VENV} ...", file=sys.stderr)
        run([sys.executable, "-m", "venv", VENV])
        run([os.path.join(VENV, "bin", "pip"), "install", "-q", f"prowler=={PROWLER_VERSION}"])
    return prowler


def endpoint_environment(directory: str) -> dict:
    """The environment scripts/local-aws wrote, over this one."""
    dump = run(["bash", "-c", f"set -a; . '{directory}/env'; env -0"], capture_output=True).stdout
    return dict(entry.split("=", 1) for entry in dump.split("\0") if "=" in entry)


def stack_resources(state_path: str, report: dict) -> list[tuple[str, set[str]]]:
    """Each recorded resource: its address and the names Prowler may know it by (ids, ARNs, names; an inline
    policy as role/name, as Prowler names it; an instance also by the volumes our check saw attached)."""
    state = json.load(open(state_path))
    volumes = defaultdict(set)
    for finding in report["findings"]:
        for volume in finding["evidence"].get("volumes") or []:
            volumes[finding["address"]].add(volume.get("id", ""))
    resources = []
    for resource in state["resources"]:
        attributes = resource.get("attributes", {})
        keys = ("id", "arn", "name", "bucket") if resource["type"] == "aws.s3.bucket" else ("id", "arn", "name")
        names = {attributes[key] for key in keys if isinstance(attributes.get(key), str)} | {resource.get("id") or ""}
        if resource["type"] == "aws.iam.role_policy":
            names = {f"{attributes.get('role')}/{attributes.get('name')}"}
        names |= volumes[resource["address"]]
        if resource["address"] not in ACCOUNT_SETTINGS:  # their id is the account's, which Prowler gives many things
            resources.append((resource["address"], {name for name in names if name}))
    return resources


def address_of(finding: dict, resources) -> str | None:
    """The stack's resource a Prowler finding is about: by the name Prowler gives it first, then by its ARN."""
    check = finding["metadata"]["event_code"]
    if check in ACCOUNT_CHECKS:
        return ACCOUNT_CHECKS[check]
    resource = finding["resources"][0]
    uid, name = resource.get("uid", ""), resource.get("name", "")
    if uid.endswith(":trail"):  # the region's verdict on its trails: the stack's trail is the one it is about
        return next((address for address, names in resources if address.startswith("storage.trail")), None)
    for matches in ([address for address, names in resources if name in names],
                    [address for address, names in resources if any(uid == n or uid.endswith(("/" + n, ":" + n)) for n in names)]):
        if matches:
            return matches[0]
    return None


def break_stack(environment: dict, region: str) -> None:
    """The out-of-band changes of the live check test, made as the outside admin with boto3."""
    import boto3

    def client(name):
        return boto3.client(name, endpoint_url=environment["AWS_ENDPOINT_URL"], region_name=region,
                            aws_access_key_id=environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"],
                            aws_secret_access_key=environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
    ec2, kms, s3, cloudtrail = client("ec2"), client("kms"), client("s3"), client("cloudtrail")
    stack = "private-inference"
    tagged = [{"Name": "tag:deploy:stack", "Values": [stack]}]
    bucket = f"{stack}-123456789012-access-logs"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    key = next(a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/" + stack)
    kms.disable_key_rotation(KeyId=key)
    group = next(g["GroupId"] for g in ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]
                 if g["GroupName"] == stack + "-inference")
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    for reservation in ec2.describe_instances(Filters=tagged)["Reservations"]:
        for instance in reservation["Instances"]:
            ec2.modify_instance_metadata_options(InstanceId=instance["InstanceId"], HttpTokens="optional")
    cloudtrail.stop_logging(Name=stack + "-trail")


def compare(deploy, prowler, target, deployer, environment, state, work, label) -> None:
    """Runs both tools on the account as it stands and prints, per Prowler check and resource, both verdicts."""
    started = time.monotonic()
    ours = subprocess.run([deploy, "check", "--live", "--format", "json"] + target, env=deployer, cwd=ROOT,
                          capture_output=True, text=True)
    ours_seconds = time.monotonic() - started
    report = json.loads(ours.stdout)[0]
    with open(os.path.join(work, f"deploy-check-{label}.json"), "w") as out:
        out.write(ours.stdout)
    checks = sorted({check for finding in report["findings"] for check in finding["prowler"]})

    # Prowler reads the account as the outside admin (read-only calls), through the same endpoint
    prowler_env = dict(environment, AWS_ACCESS_KEY_ID=environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"],
                       AWS_SECRET_ACCESS_KEY=environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
    output = os.path.join(work, f"prowler-{label}")
    shutil.rmtree(output, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([prowler, "aws", "--region", report["region"], "--checks", *checks, "-M", "json-ocsf",
                    "-o", output, "-F", "prowler", "--no-banner", "--scan-unused-services"], env=prowler_env, cwd=work,
                   stdout=open(os.path.join(work, f"prowler-{label}.log"), "w"), stderr=subprocess.STDOUT)
    prowler_seconds = time.monotonic() - started
    prowler_findings = json.load(open(os.path.join(output, "prowler.ocsf.json")))

    resources = stack_resources(state, report)
    # Prowler's verdicts by check and resource: FAIL wins over PASS
    theirs = defaultdict(dict)
    for finding in prowler_findings:
        check = finding["metadata"]["event_code"]
        address = address_of(finding, resources)
        address = SUBJECTS.get(check, {}).get(address, address)
        if address is not None and finding["status_code"] in ("PASS", "FAIL") and theirs[check].get(address) != "FAIL":
            theirs[check][address] = finding["status_code"]
    # each of our rules against the Prowler checks it maps to: Prowler fails a resource when any of them does
    rules = {}
    for finding in report["findings"]:
        if finding["prowler"]:
            rules.setdefault(finding["rule"], finding["prowler"])
    agree = disagree = 0
    print(f"\n== {label} ==\n{'deploy rule':34} {'resource':38} {'deploy':6} {'Prowler':7}  Prowler checks")
    for rule in sorted(rules):
        ours = {f["address"]: "FAIL" if f["status"] == "fail" else "PASS" for f in report["findings"] if f["rule"] == rule}
        addresses = set(ours) | {address for check in rules[rule] for address in theirs[check]}
        for address in sorted(addresses):
            verdicts = {theirs[check].get(address) for check in rules[rule]}
            prowler_verdict = "FAIL" if "FAIL" in verdicts else "PASS" if "PASS" in verdicts else "-"
            mine = ours.get(address, "-")
            same = mine == prowler_verdict
            agree += same
            disagree += not same
            print(f"{rule:34} {address:38} {mine:6} {prowler_verdict:7}  {', '.join(rules[rule])}{'' if same else '  DIFFERS'}")
    print(f"{agree} agree, {disagree} differ, over {len(rules)} rules and {len(checks)} Prowler checks "
          f"(\"-\": the tool has no verdict on it)")
    print(f"deploy check --live: {ours_seconds:.1f} s; prowler ({len(checks)} checks): {prowler_seconds:.1f} s; "
          f"ratio {prowler_seconds / ours_seconds:.0f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", help="keep the endpoint's files, the reports and Prowler's output here")
    args = parser.parse_args()
    prowler = ensure_prowler()
    run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "deploy"], stdout=subprocess.DEVNULL)
    deploy = os.path.join(run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--show-bin-path"], capture_output=True).stdout.strip(), "deploy")
    run([os.path.join(ROOT, "scripts", "artifacts")], stdout=subprocess.DEVNULL)

    work = args.keep or tempfile.mkdtemp(prefix="prowler-compare-")
    os.makedirs(work, exist_ok=True)
    endpoint_dir = os.path.join(work, "endpoint")
    run([os.path.join(ROOT, "scripts", "local-aws"), "start", endpoint_dir], stderr=subprocess.DEVNULL)
    try:
        environment = endpoint_environment(endpoint_dir)
        state = os.path.join(work, "state.json")
        target = ["--stack", STACK, "--state", state]
        policy = os.path.join(work, "policy.json")
        with open(policy, "w") as out:
            run([deploy, "permissions", "--stack", STACK, "--resources", "any"], env=environment, stdout=out)
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        os.environ.update({k: v for k, v in environment.items() if k.startswith(("AWS_", "DEPLOY_TEST_"))})
        import local_aws_deployer
        key, secret = local_aws_deployer.create_user("deployer", json.load(open(policy)))
        deployer = dict(environment, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        run([deploy, "apply", "--auto-approve"] + target, env=deployer, stdout=subprocess.DEVNULL)

        compare(deploy, prowler, target, deployer, environment, state, work, "as applied")
        break_stack(environment, json.load(open(state))["region"])
        compare(deploy, prowler, target, deployer, environment, state, work, "broken outside deploy")
    finally:
        run([os.path.join(ROOT, "scripts", "local-aws"), "stop", endpoint_dir], stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
