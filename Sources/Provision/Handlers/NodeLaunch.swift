import Foundation
import Stack

/// What a single node and a fleet's launch template share: the launch itself.
enum NodeLaunch {
    /// What a node is launched with, as RunInstances takes it (and, prefixed `LaunchTemplateData.`, a launch template):
    /// image, type, the primary interface's groups and public address, IMDS, monitoring, the encrypted root volume,
    /// the instance profile, the user data, and the tags of the node and its volume. Not the subnet.
    static func parameters(_ resource: DesiredResource) throws -> [(String, String)] {
        var parameters = [("ImageId", try resource.require("ami")), ("InstanceType", try resource.require("instance_type")),
                          ("NetworkInterface.1.DeviceIndex", "0"),
                          ("NetworkInterface.1.AssociatePublicIpAddress", String(try resource.requireBool("associate_public_ip_address"))),
                          ("NetworkInterface.1.DeleteOnTermination", "true"),
                          ("MetadataOptions.HttpTokens", try resource.require("metadata_http_tokens")),
                          ("MetadataOptions.HttpPutResponseHopLimit", String(try resource.requireInt("metadata_hop_limit"))),
                          ("MetadataOptions.HttpEndpoint", "enabled"),
                          ("Monitoring.Enabled", String(try resource.requireBool("monitoring"))),
                          ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
                          ("BlockDeviceMapping.1.Ebs.VolumeSize", String(try resource.requireInt("root_volume_size"))),
                          ("BlockDeviceMapping.1.Ebs.VolumeType", try resource.require("root_volume_type")),
                          ("BlockDeviceMapping.1.Ebs.Encrypted", String(try resource.requireBool("root_volume_encrypted"))),
                          ("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true")]
        if let key = resource.string("root_volume_kms_key_id") { parameters.append(("BlockDeviceMapping.1.Ebs.KmsKeyId", key)) }
        parameters += EC2Support.list("NetworkInterface.1.SecurityGroupId", resource.strings("security_group_ids"))
        if let profile = resource.string("iam_instance_profile") { parameters.append(("IamInstanceProfile.Name", profile)) }
        if let userData = resource.string("user_data") { parameters.append(("UserData", Data(userData.utf8).base64EncodedString())) }
        return parameters + EC2Support.tagSpecification("instance", resource.tags) + EC2Support.tagSpecification("volume", resource.tags, index: 2)
    }
}
