"""Bootstraps the local endpoint: an IAM user with a policy and keys, and a role it may assume
with an external id, as a vendor enters a customer's account; and a second user that stands for
people changing the account outside deploy (the tests use it to make drift). Runs within moto's unauthenticated
allowance, so it must make exactly BOOTSTRAP_REQUESTS requests."""
import argparse
import json
import os
import sys

ACCOUNT = "123456789012"
USER = "deploy-operator"
ROLE = "deploy-vendor"
EXTERNAL_ID = "acme-7f3e9c"
REGION = "us-east-1"

# What the operator may do. Deliberately not everything: dynamodb:DescribeTable is left out so
# that tests can see an AccessDenied from the JSON protocol family.
USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "sts:AssumeRole", "iam:Get*", "kms:List*",
                                        "kms:Describe*", "dynamodb:ListTables", "ec2:Describe*", "s3:*"],
         "Resource": "*"},
    ],
}
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{USER}"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
    }],
}
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "kms:List*", "s3:ListAllMyBuckets"],
                   "Resource": "*"}],
}
OUTSIDE_USER = "outside-admin"
OUTSIDE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ec2:*", "kms:*", "s3:*", "iam:*", "dynamodb:*", "logs:*", "cloudtrail:*",
                   "autoscaling:*", "elasticloadbalancing:*", "acm:*", "cloudwatch:*"],
                   "Resource": "*"}],
}
# A second account with an administrator of its own, for tests that change account-wide settings (S3 Block Public
# Access, EBS encryption by default), which would otherwise reach every other test's stacks.
ISOLATED_ACCOUNT = "222233334444"
ISOLATED_USER = "isolated-admin"
BOOTSTRAP_REQUESTS = 11


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", action="store_true", help="print how many requests the bootstrap makes")
    parser.add_argument("--endpoint")
    parser.add_argument("--env-file")
    args = parser.parse_args()
    if args.count:
        print(BOOTSTRAP_REQUESTS)
        return 0

    import boto3
    from botocore.config import Config

    iam = boto3.client("iam", endpoint_url=args.endpoint, region_name=REGION,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
                       config=Config(retries={"max_attempts": 1}))
    iam.create_user(UserName=USER)
    iam.put_user_policy(UserName=USER, PolicyName="operator", PolicyDocument=json.dumps(USER_POLICY))
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))["Role"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="vendor", PolicyDocument=json.dumps(ROLE_POLICY))
    iam.create_user(UserName=OUTSIDE_USER)
    iam.put_user_policy(UserName=OUTSIDE_USER, PolicyName="admin", PolicyDocument=json.dumps(OUTSIDE_POLICY))
    outside = iam.create_access_key(UserName=OUTSIDE_USER)["AccessKey"]
    # moto takes the account of an unauthenticated request from this header
    isolated_iam = boto3.client("iam", endpoint_url=args.endpoint, region_name=REGION,
                                aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
                                config=Config(retries={"max_attempts": 1}))
    isolated_iam.meta.events.register("before-sign.iam.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", ISOLATED_ACCOUNT))
    isolated_iam.create_user(UserName=ISOLATED_USER)
    isolated_iam.put_user_policy(UserName=ISOLATED_USER, PolicyName="admin", PolicyDocument=json.dumps(OUTSIDE_POLICY))
    isolated = isolated_iam.create_access_key(UserName=ISOLATED_USER)["AccessKey"]

    values = {
        "AWS_ENDPOINT_URL": args.endpoint,
        "AWS_CA_BUNDLE": os.environ.get("AWS_CA_BUNDLE", ""),
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_REGION": REGION,
        "DEPLOY_TEST_ACCOUNT": ACCOUNT,
        "DEPLOY_TEST_USER_ARN": f"arn:aws:iam::{ACCOUNT}:user/{USER}",
        "DEPLOY_TEST_ROLE_ARN": role["Arn"],
        "DEPLOY_TEST_EXTERNAL_ID": EXTERNAL_ID,
        "DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID": outside["AccessKeyId"],
        "DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY": outside["SecretAccessKey"],
        "DEPLOY_TEST_ISOLATED_ACCOUNT": ISOLATED_ACCOUNT,
        "DEPLOY_TEST_ISOLATED_ACCESS_KEY_ID": isolated["AccessKeyId"],
        "DEPLOY_TEST_ISOLATED_SECRET_ACCESS_KEY": isolated["SecretAccessKey"],
    }
    with open(args.env_file, "w") as out:
        for name, value in values.items():
            out.write(f"export {name}='{value}'\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
