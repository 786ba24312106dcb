"""Creates, on the local endpoint, an IAM user that holds a given policy (what `deploy permissions` printed) and
prints its keys as shell exports. Run with the outside-admin keys of the bootstrap.

moto authorises a few S3 bucket subresource calls under other action names than AWS does; for each such action in
the policy, the user also gets moto's name for it, and nothing else."""
import json
import os
import sys

import boto3

LOCAL_ENDPOINT_ACTION_NAMES = {
    "s3:GetBucketPublicAccessBlock": ["s3:ListBucket"], "s3:GetEncryptionConfiguration": ["s3:ListBucket"],
    # AWS authorises DeletePublicAccessBlock as s3:PutBucketPublicAccessBlock; moto as s3:DeleteBucket
    "s3:PutBucketPublicAccessBlock": ["s3:CreateBucket", "s3:DeleteBucket"], "s3:PutEncryptionConfiguration": ["s3:CreateBucket"],
    "s3:PutBucketOwnershipControls": ["s3:CreateBucket"],
    # moto has no action names for a bucket's replication configuration: it uses the bucket's defaults
    "s3:GetReplicationConfiguration": ["s3:ListBucket"], "s3:PutReplicationConfiguration": ["s3:CreateBucket", "s3:DeleteBucket"],
    # nor for a bucket's Object Lock configuration
    "s3:GetBucketObjectLockConfiguration": ["s3:ListBucket"], "s3:PutBucketObjectLockConfiguration": ["s3:CreateBucket"],
}


def create_user(name: str, policy: dict) -> tuple[str, str]:
    """Creates user `name` holding `policy` (plus moto's names for its actions); returns its access key and secret."""
    policy = json.loads(json.dumps(policy))
    actions = {action for statement in policy["Statement"] for action in
               (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
    aliases = sorted({alias for action, names in LOCAL_ENDPOINT_ACTION_NAMES.items() if action in actions for alias in names})
    if aliases:
        policy["Statement"].append({"Sid": "LocalEndpointActionNames", "Effect": "Allow", "Action": aliases, "Resource": "*"})
    iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id=os.environ["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"],
                       aws_secret_access_key=os.environ["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def main() -> int:
    name, policy_file = sys.argv[1], sys.argv[2]
    key, secret = create_user(name, json.load(open(policy_file)))
    print(f"export AWS_ACCESS_KEY_ID='{key}'")
    print(f"export AWS_SECRET_ACCESS_KEY='{secret}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
